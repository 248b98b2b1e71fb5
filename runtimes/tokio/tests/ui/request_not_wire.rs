use aster::Status;

#[derive(Default, aster::WireType)]
#[wire(tag = "t/Ping")]
struct Ping {
    n: i64,
}

struct Plain {
    n: i64,
}

#[aster::service(name = "Pinger")]
trait Pinger {
    #[rpc]
    async fn ping(&self, req: Plain) -> Result<Ping, Status>;
}

fn main() {}
