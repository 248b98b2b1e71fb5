#[derive(Default, aster::WireType)]
struct Status {
    code: i64,
}

fn main() {}
