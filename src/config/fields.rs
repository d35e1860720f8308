//! What the NameServer's and the controller's config structs share: the text
//! form of a property value and [`config_struct!`], which declares a struct
//! whose fields are set, read and listed by their Java property names.
//!
//! The two structs differ in their error type, in whether string values are
//! trimmed, in Java nulls (only the controller has `Option` fields, left out
//! of its listing) and in printed names (the controller prints one key under
//! another name); the macro takes the first two as arguments, and the other
//! two follow from the fields declared.

use std::path::Path;

/// A property value type: parsed from and printed to Java's text form.
pub(crate) trait PropValue: Sized {
    const EXPECTED: &'static str;
    fn parse_prop(text: &str) -> Option<Self>;
    /// `None` for a Java null, which Java leaves out of its listing.
    fn print_prop(&self) -> Option<String>;
}

impl PropValue for String {
    const EXPECTED: &'static str = "string";
    fn parse_prop(text: &str) -> Option<Self> {
        Some(text.to_string())
    }
    fn print_prop(&self) -> Option<String> {
        Some(self.clone())
    }
}

impl PropValue for Option<String> {
    const EXPECTED: &'static str = "string";
    fn parse_prop(text: &str) -> Option<Self> {
        Some(Some(text.to_string()))
    }
    fn print_prop(&self) -> Option<String> {
        self.clone()
    }
}

/// Java's `Boolean.parseBoolean` would read anything but "true" as false; a
/// typo is more likely than an intended false, so other words are errors.
impl PropValue for bool {
    const EXPECTED: &'static str = "boolean (true or false)";
    fn parse_prop(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        }
    }
    fn print_prop(&self) -> Option<String> {
        Some(self.to_string())
    }
}

macro_rules! int_prop {
    ($($t:ty),*) => {$(
        impl PropValue for $t {
            const EXPECTED: &'static str = concat!("integer (", stringify!($t), ")");
            fn parse_prop(text: &str) -> Option<Self> {
                text.trim().parse().ok()
            }
            fn print_prop(&self) -> Option<String> {
                Some(self.to_string())
            }
        }
    )*};
}
int_prop!(i32, i64);

/// Hands a value to its parser as written. The NameServer's config reads
/// values so: its number, boolean and enum parsers trim, its strings keep
/// their spaces.
pub(crate) fn as_written(text: &str) -> &str {
    text
}

/// Hands a value to its parser trimmed, strings too, as Java's setter-based
/// loader does; the controller's config reads values so.
pub(crate) fn trimmed(text: &str) -> &str {
    text.trim()
}

/// `rest` under `$HOME` (else the working directory), where Java's default
/// store paths are.
pub(crate) fn home_path(rest: &str) -> String {
    let home = std::env::var("HOME").unwrap_or_else(|_| ".".into());
    Path::new(&home).join(rest).display().to_string()
}

/// Picks the printed name: the explicit one if given, else the key.
macro_rules! print_key {
    ($key:literal) => {
        $key
    };
    ($key:literal $print:literal) => {
        $print
    };
}
pub(crate) use print_key;

/// Declares a config struct whose fields are set and read by their Java
/// property names; each field is declared once with its default.
///
/// `Name(Error, read)`: `Error` has a variant `BadValue { key, value,
/// expected }` for a value that does not parse; `read` ([`as_written`] or
/// [`trimmed`]) prepares a value's text for its parser. A field written
/// `key as "printed"` is listed under `printed` (as Java prints it) but set
/// and read by `key`.
macro_rules! config_struct {
    (
        $(#[$meta:meta])*
        $name:ident($err:ident, $read:path) {
            $( $(#[$fmeta:meta])* $field:ident : $ty:ty = $key:literal $(as $print:literal)? => $default:expr ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        pub struct $name { $( $(#[$fmeta])* pub $field: $ty, )+ }

        impl Default for $name {
            fn default() -> Self {
                $name { $( $field: $default, )+ }
            }
        }

        impl $name {
            /// The keys `set` accepts.
            pub const KEYS: &'static [&'static str] = &[$($key),+];

            /// Sets the property named `key`; `Ok(false)` if no such property.
            pub fn set(&mut self, key: &str, value: &str) -> Result<bool, $err> {
                use $crate::config::fields::PropValue;
                match key {
                    $( $key => {
                        self.$field = <$ty as PropValue>::parse_prop($read(value)).ok_or_else(|| $err::BadValue {
                            key: key.to_string(),
                            value: value.to_string(),
                            expected: <$ty as PropValue>::EXPECTED,
                        })?;
                        Ok(true)
                    } )+
                    _ => Ok(false),
                }
            }

            /// The value of the property `key` (a `set` key), if it has one.
            pub fn get(&self, key: &str) -> Option<String> {
                use $crate::config::fields::PropValue;
                match key {
                    $( $key => self.$field.print_prop(), )+
                    _ => None,
                }
            }

            /// Every non-null property under its printed name, in
            /// declaration order (Java's).
            pub fn entries(&self) -> Vec<(&'static str, String)> {
                use $crate::config::fields::PropValue;
                let mut out = Vec::new();
                $( if let Some(v) = self.$field.print_prop() {
                    out.push(($crate::config::fields::print_key!($key $($print)?), v));
                } )+
                out
            }
        }
    };
}
pub(crate) use config_struct;
