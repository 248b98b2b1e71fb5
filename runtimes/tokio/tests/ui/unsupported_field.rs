#[derive(Default, aster::WireType)]
#[wire(tag = "t/Counter")]
struct Counter {
    value: u64,
}

fn main() {}
