//! Registry: keys, records, leases and resolution rules (being written).
