//! Typed XLANG against bytes produced by pyfory 0.16 through the reference's
//! codec (aster-rpc 0.1.2 `ForyCodec(SerializationMode.XLANG)`).

use std::collections::BTreeMap;

use aster_proto::xlang::{self, DecodeError};
use aster_proto::{wire_enum, wire_struct};

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Debug, Clone, Default, PartialEq)]
struct Inner {
    x: i64,
    s: String,
}
wire_struct!(Inner, "t/Inner", { x: i64 => "x", s: String => "s" });

#[derive(Debug, Clone, Default, PartialEq)]
struct Outer {
    inner: Inner,
    items: Vec<Inner>,
    opt_inner: Option<Inner>,
    tags: BTreeMap<String, String>,
    counts: BTreeMap<String, i64>,
    blob: Vec<u8>,
    f: f64,
    b: bool,
    i32_: i32,
    ostr: Option<String>,
    oint: Option<i64>,
    ints: Vec<i64>,
    ostrs: Vec<Option<String>>,
}
wire_struct!(Outer, "t/Outer", {
    inner: Inner => "inner",
    items: Vec<Inner> => "items",
    opt_inner: Option<Inner> => "opt_inner",
    tags: BTreeMap<String, String> => "tags",
    counts: BTreeMap<String, i64> => "counts",
    blob: Vec<u8> => "blob",
    f: f64 => "f",
    b: bool => "b",
    i32_: i32 => "i32",
    ostr: Option<String> => "ostr",
    oint: Option<i64> => "oint",
    ints: Vec<i64> => "ints",
    ostrs: Vec<Option<String>> => "ostrs",
});

#[derive(Debug, Clone, Default, PartialEq)]
struct Node {
    value: i64,
    next: Option<Box<Node>>,
    children: Vec<Node>,
}

wire_struct!(Node, "t/Node", {
    value: i64 => "value",
    next: Option<Box<Node>> => "next",
    children: Vec<Node> => "children",
});

#[test]
fn recursive_node_matches_pyfory() {
    let node = Node {
        value: 1,
        next: Some(Box::new(Node {
            value: 2,
            ..Default::default()
        })),
        children: vec![Node {
            value: 3,
            ..Default::default()
        }],
    };
    // Second appearance of t/Node's names is a back-reference (03, 05).
    let want = "02ff1d02014c060335c32029c95a4402010c29c95a440600fdff1d030529c95a440400fd";
    assert_eq!(hex(&xlang::to_bytes(&node)), want);
    assert_eq!(xlang::decode::<Node>(&unhex(want)).unwrap(), node);
}

#[test]
fn outer_matches_pyfory() {
    let empty = "02ff1d02014c0803ba93244054b7c4fe00000000000000000000fdfd0000000000001d02014c0803a1ad2440b7416aa60000fd";
    assert_eq!(hex(&xlang::to_bytes(&Outer::default())), empty);
    assert_eq!(
        xlang::decode::<Outer>(&unhex(empty)).unwrap(),
        Outer::default()
    );

    let full = Outer {
        inner: Inner {
            x: 1,
            s: "a".into(),
        },
        items: vec![
            Inner {
                x: 2,
                s: "b".into(),
            },
            Inner {
                x: 3,
                s: "c".into(),
            },
        ],
        opt_inner: Some(Inner {
            x: 4,
            s: "d".into(),
        }),
        tags: [
            ("k".to_string(), "v".to_string()),
            ("k2".into(), "v2".into()),
        ]
        .into(),
        counts: [("a".to_string(), 1)].into(),
        blob: vec![1, 2],
        f: 1.5,
        b: true,
        i32_: -7,
        ostr: Some("x".into()),
        oint: Some(9),
        ints: vec![1, 2, 3],
        ostrs: vec![Some("a".into()), None],
    };
    let want = "02ff1d02014c0803ba93244054b7c4fe000000000000f83f010dff12ff0478020102030c020406020cb7416aa6040462b7416aa6060463020eff0461fd012401046102022402046b0476086b320876321d02014c0803a1ad2440b7416aa6020461ff1d0709b7416aa6080464";
    assert_eq!(hex(&xlang::to_bytes(&full)), want);
    assert_eq!(xlang::decode::<Outer>(&unhex(want)).unwrap(), full);
}

#[derive(Debug, Clone, Copy, PartialEq, Default)]
enum Color {
    #[default]
    Red,
    Green,
}
wire_enum!(Color, "t/Color", { Red, Green });

#[test]
fn enum_is_an_ordinal() {
    #[derive(Debug, PartialEq, Default)]
    struct E {
        c: Color,
    }
    wire_struct!(E, "t/E", { c: Color => "c" });
    let bytes = xlang::to_bytes(&E { c: Color::Green });
    assert_eq!(bytes[bytes.len() - 1], 1);
    assert_eq!(xlang::decode::<E>(&bytes).unwrap(), E { c: Color::Green });
    let mut bad = bytes.to_vec();
    *bad.last_mut().unwrap() = 5;
    assert!(matches!(
        xlang::decode::<E>(&bad),
        Err(DecodeError::BadEnumOrdinal { ordinal: 5, .. })
    ));
}

#[test]
fn truncations_never_panic() {
    let full = xlang::to_bytes(&Outer {
        items: vec![Inner::default(); 3],
        ..Default::default()
    });
    for n in 0..full.len() {
        assert!(xlang::decode::<Outer>(&full[..n]).is_err());
    }
}

mod json_mode {
    use super::*;
    use aster_proto::StatusCode;
    use aster_proto::codec::{self, SerializationMode};

    #[test]
    fn json_uses_wire_names_in_declaration_order() {
        let o = Outer {
            i32_: 5,
            ostrs: vec![None, Some("é".into())],
            blob: vec![1, 2],
            ..Default::default()
        };
        let bytes = codec::encode_payload(&o, SerializationMode::Json);
        let text = std::str::from_utf8(&bytes).unwrap();
        assert!(text.starts_with(r#"{"inner":{"x":0,"s":""},"items":[],"opt_inner":null,"tags":{},"counts":{},"blob":"AQI=","f":0.0,"b":false,"i32":5,"#), "{text}");
        assert!(text.contains(r#""ostrs":[null,"\u00e9"]"#));
        assert_eq!(codec::decode_json::<Outer>(&bytes).unwrap(), o);
    }

    #[test]
    fn missing_fields_take_defaults_and_unknown_fields_are_refused() {
        let o: Outer = codec::decode_json(br#"{"f": 2, "items": [{"x": 3}]}"#).unwrap();
        assert_eq!(o.f, 2.0);
        assert_eq!(
            o.items,
            vec![Inner {
                x: 3,
                s: String::new()
            }]
        );

        let err = codec::decode_json::<Outer>(br#"{"items": [{"x": 3, "zz": 1}]}"#)
            .unwrap_err()
            .to_status();
        assert_eq!(err.code, StatusCode::ContractViolation);
        assert_eq!(
            err.message,
            r#"contract violation at Outer.items[0]: unexpected JSON field(s) ["'zz'"] (expected: ['s', 'x'])"#
        );
        let err = codec::decode_json::<Outer>(br#"{"b": "yes"}"#)
            .unwrap_err()
            .to_status();
        assert_eq!(err.code, StatusCode::ContractViolation);
        assert!(err.message.contains("Outer.b"));
        let many: String = (0..7).map(|i| format!(r#""k{i}":1,"#)).collect();
        let err = codec::decode_json::<Inner>(format!("{{{many}\"x\":1}}").as_bytes())
            .unwrap_err()
            .to_status();
        assert!(
            err.message.contains(r#""'k4'", '...(+2 more)']"#),
            "{}",
            err.message
        );
    }

    #[test]
    fn enums_and_int_keys() {
        #[derive(Debug, PartialEq, Default)]
        struct K {
            by_id: BTreeMap<i64, String>,
            c: Color,
        }
        wire_struct!(K, "t/K", { by_id: BTreeMap<i64, String> => "byId", c: Color => "c" });
        let k = K {
            by_id: [(5, "x".to_string())].into(),
            c: Color::Green,
        };
        let bytes = codec::encode_payload(&k, SerializationMode::Json);
        assert_eq!(&bytes[..], br#"{"byId":{"5":"x"},"c":"Green"}"#);
        assert_eq!(codec::decode_json::<K>(&bytes).unwrap(), k);
    }
}

// A user type named like the macros' internals, and lowercase variants:
// both must compile without warnings or shadowing.
mod macro_hygiene {
    use aster_proto::{wire_enum, wire_struct};

    #[derive(Debug, Clone, Default, PartialEq)]
    pub struct Field {
        pub name: String,
    }
    wire_struct!(Field, "h/Field", { name: String => "name" });

    #[derive(Debug, Clone, Copy, Default, PartialEq)]
    #[allow(non_camel_case_types)]
    pub enum Ordinal {
        #[default]
        first,
        second,
    }
    wire_enum!(Ordinal, "h/Ordinal", { first, second });

    #[derive(Debug, Clone, Default, PartialEq)]
    pub struct Holder {
        pub field: Field,
        pub fields: Vec<Field>,
        pub ordinal: Ordinal,
    }
    wire_struct!(Holder, "h/Holder", { field: Field => "field", fields: Vec<Field> => "fields", ordinal: Ordinal => "ordinal" });

    #[test]
    fn round_trips() {
        let h = Holder {
            field: Field { name: "a".into() },
            fields: vec![Field::default()],
            ordinal: Ordinal::second,
        };
        let mut bytes = bytes::BytesMut::new();
        aster_proto::xlang::encode_into(&h, &mut bytes);
        assert_eq!(
            aster_proto::xlang::decode::<Holder>(&bytes).expect("decodes"),
            h
        );
    }
}
