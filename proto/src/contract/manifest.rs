//! The reference manifest JSON of a service (being written).
