//! Trust: credentials, admission checks, capability gates (being written).
