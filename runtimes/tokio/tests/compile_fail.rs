//! Misuse of `#[derive(WireType)]` and `#[aster::service]` fails to compile
//! with a message that says what to do (`tests/ui/*.stderr`).

#[test]
fn macro_misuse_is_a_readable_compile_error() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
