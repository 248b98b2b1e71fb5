//! Every pattern and a session, driven from async-std through the bridge.

#[path = "../../shared-tests/bridge_scenario.rs"]
mod scenario;

#[test]
fn every_pattern_from_async_std() {
    aster_async_std::block_on(scenario::run).expect("reactor starts");
}
