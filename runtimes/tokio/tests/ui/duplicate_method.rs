use aster::Status;

#[derive(Default, aster::WireType)]
#[wire(tag = "t/Ping")]
struct Ping {
    n: i64,
}

#[aster::service(name = "Pinger", rename_all = "camelCase")]
trait Pinger {
    #[rpc]
    async fn get_ping(&self, req: Ping) -> Result<Ping, Status>;
    #[rpc(name = "getPing")]
    async fn other(&self, req: Ping) -> Result<Ping, Status>;
}

fn main() {}
