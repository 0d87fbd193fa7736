//! Decoding objects without `metadata.managedFields`.
//!
//! managedFields are the server-side-apply bookkeeping the daemon never
//! shows or keeps, yet decoding them into typed structs is most of the
//! cost of decoding a pod (BENCHMARKS.md, `bench wire`). `Lean<K>` decodes `K` through a deserializer that skips that
//! one key of every `metadata` map, so they are never built.

use std::borrow::Cow;
use std::fmt;

use kube::Resource;
use kube::core::ObjectMeta;
use serde::de::value::{BorrowedStrDeserializer, StrDeserializer};
use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, IgnoredAny, MapAccess, SeqAccess, Visitor,
};
use serde::{Deserialize, Serialize};

/// An object decoded without `metadata.managedFields`.
#[derive(Clone, Debug)]
pub struct Lean<K> {
    /// Boxed: objects are large (a `Pod` is kilobytes of inline fields)
    /// and pass through lists, events and channels by value.
    pub object: Box<K>,
    /// The object as it came in protobuf (a `k8s\0` body without
    /// managedFields), when it did: the cache keeps these bytes for `Get`,
    /// and `object` may then be decoded pruned to what the projection reads
    /// (`crate::wire::FromProtobuf`).
    pub protobuf: Option<Vec<u8>>,
}

impl<K> Lean<K> {
    /// An object that came as JSON.
    pub fn new(object: K) -> Lean<K> {
        Lean {
            object: Box::new(object),
            protobuf: None,
        }
    }
}

impl<'de, K: Deserialize<'de>> Deserialize<'de> for Lean<K> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        K::deserialize(Skip {
            inner: deserializer,
            metadata: false,
        })
        .map(Lean::new)
    }
}

impl<K: Serialize> Serialize for Lean<K> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.object.serialize(serializer)
    }
}

impl<K: Resource> Resource for Lean<K> {
    type DynamicType = K::DynamicType;
    type Scope = K::Scope;

    fn kind(dt: &Self::DynamicType) -> Cow<'_, str> {
        K::kind(dt)
    }
    fn group(dt: &Self::DynamicType) -> Cow<'_, str> {
        K::group(dt)
    }
    fn version(dt: &Self::DynamicType) -> Cow<'_, str> {
        K::version(dt)
    }
    fn api_version(dt: &Self::DynamicType) -> Cow<'_, str> {
        K::api_version(dt)
    }
    fn plural(dt: &Self::DynamicType) -> Cow<'_, str> {
        K::plural(dt)
    }
    fn metadata_api() -> bool {
        K::metadata_api()
    }
    fn url_path(dt: &Self::DynamicType, namespace: Option<&str>) -> String {
        K::url_path(dt, namespace)
    }
    fn meta(&self) -> &ObjectMeta {
        self.object.meta()
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        self.object.meta_mut()
    }
}

/// A deserializer that drops `managedFields` from maps that are the value of
/// a `metadata` key, and passes everything else through.
struct Skip<D> {
    inner: D,
    /// This value is a `metadata` map.
    metadata: bool,
}

macro_rules! forward_deserialize {
    ($($method:ident),* $(,)?) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
                self.inner.$method(Wrap { inner: visitor, metadata: self.metadata })
            }
        )*
    };
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Skip<D> {
    type Error = D::Error;

    forward_deserialize!(
        deserialize_any,
        deserialize_bool,
        deserialize_i8,
        deserialize_i16,
        deserialize_i32,
        deserialize_i64,
        deserialize_i128,
        deserialize_u8,
        deserialize_u16,
        deserialize_u32,
        deserialize_u64,
        deserialize_u128,
        deserialize_f32,
        deserialize_f64,
        deserialize_char,
        deserialize_str,
        deserialize_string,
        deserialize_bytes,
        deserialize_byte_buf,
        deserialize_option,
        deserialize_unit,
        deserialize_seq,
        deserialize_map,
        deserialize_identifier,
        deserialize_ignored_any,
    );

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        let wrapped = Wrap {
            inner: visitor,
            metadata: self.metadata,
        };
        self.inner.deserialize_unit_struct(name, wrapped)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        let wrapped = Wrap {
            inner: visitor,
            metadata: self.metadata,
        };
        self.inner.deserialize_newtype_struct(name, wrapped)
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        let wrapped = Wrap {
            inner: visitor,
            metadata: self.metadata,
        };
        self.inner.deserialize_tuple(len, wrapped)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        let wrapped = Wrap {
            inner: visitor,
            metadata: self.metadata,
        };
        self.inner.deserialize_tuple_struct(name, len, wrapped)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        let wrapped = Wrap {
            inner: visitor,
            metadata: self.metadata,
        };
        self.inner.deserialize_struct(name, fields, wrapped)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        let wrapped = Wrap {
            inner: visitor,
            metadata: self.metadata,
        };
        self.inner.deserialize_enum(name, variants, wrapped)
    }

    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

/// A visitor that wraps what it is given back into `Skip`.
struct Wrap<V> {
    inner: V,
    metadata: bool,
}

macro_rules! forward_visit {
    ($($method:ident($type:ty)),* $(,)?) => {
        $(
            fn $method<E: de::Error>(self, value: $type) -> Result<Self::Value, E> {
                self.inner.$method(value)
            }
        )*
    };
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Wrap<V> {
    type Value = V::Value;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(formatter)
    }

    forward_visit!(
        visit_bool(bool),
        visit_i8(i8),
        visit_i16(i16),
        visit_i32(i32),
        visit_i64(i64),
        visit_i128(i128),
        visit_u8(u8),
        visit_u16(u16),
        visit_u32(u32),
        visit_u64(u64),
        visit_u128(u128),
        visit_f32(f32),
        visit_f64(f64),
        visit_char(char),
        visit_str(&str),
        visit_borrowed_str(&'de str),
        visit_string(String),
        visit_bytes(&[u8]),
        visit_borrowed_bytes(&'de [u8]),
        visit_byte_buf(Vec<u8>),
    );

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        self.inner.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        self.inner.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        self.inner.visit_some(Skip {
            inner: deserializer,
            metadata: self.metadata,
        })
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        self.inner.visit_newtype_struct(Skip {
            inner: deserializer,
            metadata: self.metadata,
        })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        self.inner.visit_seq(Elements { inner: seq })
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.inner.visit_map(Entries {
            inner: map,
            metadata: self.metadata,
            value_is_metadata: false,
        })
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
        self.inner.visit_enum(data)
    }
}

/// A seed whose value is deserialized through `Skip`.
struct Seed<S> {
    inner: S,
    metadata: bool,
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Seed<S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<S::Value, D::Error> {
        self.inner.deserialize(Skip {
            inner: deserializer,
            metadata: self.metadata,
        })
    }
}

struct Elements<A> {
    inner: A,
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for Elements<A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, A::Error> {
        self.inner.next_element_seed(Seed {
            inner: seed,
            metadata: false,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

/// A map key, borrowed from the input when the format allows.
enum Key<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a map key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key::Borrowed(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key::Owned(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key::Owned(v))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

struct Entries<A> {
    inner: A,
    metadata: bool,
    value_is_metadata: bool,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Entries<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        loop {
            let Some(key) = self.inner.next_key::<Key<'de>>()? else {
                return Ok(None);
            };
            let text = match &key {
                Key::Borrowed(text) => *text,
                Key::Owned(text) => text.as_str(),
            };
            if self.metadata && text == "managedFields" {
                self.inner.next_value::<IgnoredAny>()?;
                continue;
            }
            self.value_is_metadata = text == "metadata";
            return match key {
                Key::Borrowed(text) => seed
                    .deserialize(BorrowedStrDeserializer::<A::Error>::new(text))
                    .map(Some),
                Key::Owned(text) => seed
                    .deserialize(StrDeserializer::<A::Error>::new(&text))
                    .map(Some),
            };
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.inner.next_value_seed(Seed {
            inner: seed,
            metadata: self.value_is_metadata,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{ConfigMap, Pod};
    use kube::api::DynamicObject;
    use kube::core::ObjectList;

    #[test]
    fn managed_fields_are_skipped_and_everything_else_is_kept() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/kube-apiserver-v1.36/list/pods.json"
        ))
        .expect("fixture");
        let full: ObjectList<Pod> = serde_json::from_str(&text).expect("full");
        let lean: ObjectList<Lean<Pod>> = serde_json::from_str(&text).expect("lean");
        assert!(
            full.items
                .iter()
                .any(|p| p.metadata.managed_fields.is_some())
        );
        assert_eq!(full.items.len(), lean.items.len());
        for (full, lean) in full.items.iter().zip(&lean.items) {
            assert!(lean.object.metadata.managed_fields.is_none());
            let mut expected = full.clone();
            expected.metadata.managed_fields = None;
            assert_eq!(&expected, &*lean.object);
        }
        // Through the dynamic API as well.
        let dynamic: ObjectList<Lean<DynamicObject>> =
            serde_json::from_str(&text).expect("dynamic");
        let json = serde_json::to_string(&dynamic.items[0]).expect("json");
        assert!(
            !json.contains("managedFields") && json.contains("\"spec\""),
            "{json}"
        );
    }

    #[test]
    fn only_metadata_loses_the_key() {
        let config: Lean<ConfigMap> = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "c", "managedFields": [{"manager": "kubectl"}],
                         "labels": {"managedFields": "stays"}},
            "data": {"managedFields": "user data stays", "other": "x"}
        }))
        .expect("configmap");
        let data = config.object.data.expect("data");
        assert_eq!(data["managedFields"], "user data stays");
        assert_eq!(
            config.object.metadata.labels.expect("labels")["managedFields"],
            "stays"
        );
        assert!(config.object.metadata.managed_fields.is_none());
    }
}
