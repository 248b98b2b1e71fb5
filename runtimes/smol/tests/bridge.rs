//! Every pattern and a session, driven from smol through the bridge.

#[path = "../../shared-tests/bridge_scenario.rs"]
mod scenario;

#[test]
fn every_pattern_from_smol() {
    aster_smol::block_on(scenario::run).expect("reactor starts");
}
