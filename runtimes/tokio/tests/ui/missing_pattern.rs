use aster::Status;

#[derive(Default, aster::WireType)]
#[wire(tag = "t/Ping")]
struct Ping {
    n: i64,
}

#[aster::service(name = "Pinger")]
trait Pinger {
    async fn ping(&self, req: Ping) -> Result<Ping, Status>;
}

fn main() {}
