#[derive(aster::WireType)]
#[wire(tag = "t/Shape")]
enum Shape {
    Circle { r: f64 },
    Square,
}

fn main() {}
