//! The six enumerations of the contract model and their fixed numbers.
//!
//! Spec: wire.md §5.3. The numbers are normative (they are what is hashed);
//! the snake_case names are the ones the reference core's JSON entry point
//! uses, kept for vector files and diagnostics.

use super::canonical::CanonicalError;

macro_rules! contract_enum {
    (
        $(#[$meta:meta])* $name:ident, $what:literal,
        { $($(#[$vmeta:meta])* $variant:ident = $value:literal => $serde:literal),* $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vmeta])* $variant = $value),*
        }

        impl $name {
            /// Every value, in numeric order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The number written on the wire.
            pub const fn value(self) -> u64 {
                self as u64
            }

            /// The reference core's serde name.
            pub const fn serde_name(self) -> &'static str {
                match self { $($name::$variant => $serde),* }
            }

            /// The value with this number, if any.
            pub const fn from_value(value: u64) -> Option<$name> {
                match value {
                    $($value => Some($name::$variant),)*
                    _ => None,
                }
            }

            /// The value with this serde name, if any.
            pub fn from_serde_name(name: &str) -> Option<$name> {
                match name {
                    $($serde => Some($name::$variant),)*
                    _ => None,
                }
            }

            /// Reads the number and maps it, so that an unknown number is an
            /// error at its own offset.
            pub(crate) fn read(r: &mut super::canonical::CanonicalReader<'_>) -> Result<$name, CanonicalError> {
                let offset = r.position();
                let value = r.enum_value()?;
                $name::from_value(value).ok_or(CanonicalError::UnknownEnum { what: $what, offset, value })
            }
        }
    };
}

contract_enum!(
    /// How a field's (element) type is identified.
    TypeKind, "TypeKind", {
        /// A primitive named in `type_primitive` (`"string"`, `"int64"`, ...).
        Primitive = 0 => "primitive",
        /// Another TypeDef, by its 32-byte hash in `type_ref`.
        Ref = 1 => "ref",
        /// A back-edge of a cycle, by name in `self_ref_name`.
        SelfRef = 2 => "self_ref",
        /// Anything the binding does not describe (G1: sized ints, enums, nested containers).
        Any = 3 => "any",
    }
);

contract_enum!(
    /// The container around a field's element type.
    ContainerKind, "ContainerKind", {
        None = 0 => "none",
        List = 1 => "list",
        Set = 2 => "set",
        Map = 3 => "map",
    }
);

contract_enum!(
    /// The kind of a TypeDef. G1 Python only ever emits `Message`.
    TypeDefKind, "TypeDefKind", {
        Message = 0 => "message",
        Enum = 1 => "enum",
        Union = 2 => "union",
    }
);

contract_enum!(
    /// The call shape of a method.
    MethodPattern, "MethodPattern", {
        Unary = 0 => "unary",
        ServerStream = 1 => "server_stream",
        ClientStream = 2 => "client_stream",
        BidiStream = 3 => "bidi_stream",
    }
);

contract_enum!(
    /// How the roles of a capability requirement combine.
    CapabilityKind, "CapabilityKind", {
        Role = 0 => "role",
        AnyOf = 1 => "any_of",
        AllOf = 2 => "all_of",
    }
);

contract_enum!(
    /// Service lifetime. `Session` was once called `STREAM` (same number);
    /// [`ScopeKind::parse`] accepts both spellings.
    ScopeKind, "ScopeKind", {
        Shared = 0 => "shared",
        Session = 1 => "session",
    }
);

impl ScopeKind {
    /// The serde name or its legacy alias `"stream"`.
    pub fn parse(name: &str) -> Option<ScopeKind> {
        match name {
            "stream" => Some(ScopeKind::Session),
            other => ScopeKind::from_serde_name(other),
        }
    }
}
