#[derive(Default, aster::WireType)]
#[wire(tag = "t/Pair")]
struct Pair(i64, i64);

fn main() {}
