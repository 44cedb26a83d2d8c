//! The declarations: [`storage!`](crate::storage!),
//! [`constants!`](crate::constants!) and
//! [`compose_runtime!`](crate::compose_runtime!).

/// Declares a pallet's storage items once each: the typed item, its key
/// (`twox128(pallet) ++ twox128(item) ++ hashed key`) and its metadata entry,
/// whose doc is the item's `///` comment. Generates one type per item and
/// `storage_metadata()` listing them in declaration order.
///
/// ```ignore
/// storage! { pallet = "Tokens";
///     /// Sum of all native balances.
///     pub TotalIssuance: value Balance [default];
///     /// Native balance of each account.
///     pub Account: map Blake2_128Concat AccountId => AccountData [default];
///     /// Issued tokens by issuer and code.
///     pub Token: double_map Blake2_128Concat AccountId, Blake2_128Concat TokenCode => TokenDetails;
///     /// Per-block scratch, not described in metadata.
///     pub Scratch: value u32 [unlisted];
/// }
/// ```
///
/// `pub DigestItems as "Digest": value Digest;` names the item `Digest` in
/// its key and metadata while the Rust type is `DigestItems`.
///
/// Modifiers: `[default]`: an absent value reads as the type's default in
/// metadata (Substrate's `ValueQuery`); `[unlisted]`: not in metadata.
/// Without either, an absent value reads as `None` (`OptionQuery`).
/// One `storage!` per module (it declares `__storage_instances`).
#[macro_export]
macro_rules! storage {
    (@item $pallet:literal [$($meta:expr,)*] [$($inst:ident [$($it:literal)?])*]) => {
        #[doc(hidden)]
        #[allow(missing_docs)]
        pub mod __storage_instances {
            $(
                pub struct $inst;
                impl $crate::storage::StorageInstance for $inst {
                    const PALLET: &'static str = $pallet;
                    const ITEM: &'static str = $crate::storage!(@name $inst $($it)?);
                }
            )*
        }
        /// Storage metadata of this pallet, in declaration order (from its
        /// `storage!` declaration).
        pub fn storage_metadata() -> $crate::alloc::vec::Vec<$crate::storage::EntryMeta> {
            let all: $crate::alloc::vec::Vec<Option<$crate::storage::EntryMeta>> =
                $crate::alloc::vec![$($meta),*];
            all.into_iter().flatten().collect()
        }
    };
    (@item $pallet:literal [$($meta:expr,)*] [$($inst:ident $inst_item:tt)*]
        $(#[doc = $doc:literal])* $vis:vis $name:ident $(as $item:literal)? : value $v:ty $([$($m:ident),*])? ; $($rest:tt)*
    ) => {
        $(#[doc = $doc])*
        $vis type $name = $crate::storage::StorageValue<__storage_instances::$name, $v>;
        $crate::storage!(@item $pallet
            [$($meta,)* $crate::storage!(@meta [$($($m)*)?] $name concat!($($doc),*)),]
            [$($inst $inst_item)* $name [$($item)?]] $($rest)*);
    };
    (@item $pallet:literal [$($meta:expr,)*] [$($inst:ident $inst_item:tt)*]
        $(#[doc = $doc:literal])* $vis:vis $name:ident $(as $item:literal)? : map $h:ident $k:ty => $v:ty $([$($m:ident),*])? ; $($rest:tt)*
    ) => {
        $(#[doc = $doc])*
        $vis type $name = $crate::storage::StorageMap<
            __storage_instances::$name, $crate::storage::$h, $k, $v>;
        $crate::storage!(@item $pallet
            [$($meta,)* $crate::storage!(@meta [$($($m)*)?] $name concat!($($doc),*)),]
            [$($inst $inst_item)* $name [$($item)?]] $($rest)*);
    };
    (@item $pallet:literal [$($meta:expr,)*] [$($inst:ident $inst_item:tt)*]
        $(#[doc = $doc:literal])* $vis:vis $name:ident $(as $item:literal)? :
            double_map $h1:ident $k1:ty, $h2:ident $k2:ty => $v:ty $([$($m:ident),*])? ; $($rest:tt)*
    ) => {
        $(#[doc = $doc])*
        $vis type $name = $crate::storage::StorageDoubleMap<
            __storage_instances::$name, $crate::storage::$h1, $k1, $crate::storage::$h2, $k2, $v>;
        $crate::storage!(@item $pallet
            [$($meta,)* $crate::storage!(@meta [$($($m)*)?] $name concat!($($doc),*)),]
            [$($inst $inst_item)* $name [$($item)?]] $($rest)*);
    };
    (@name $inst:ident) => {
        stringify!($inst)
    };
    (@name $inst:ident $item:literal) => {
        $item
    };
    (@meta [default] $name:ident $docs:expr) => {
        Some($name::meta_value_query($crate::metadata::doc_line($docs)))
    };
    (@meta [unlisted] $name:ident $docs:expr) => {
        None
    };
    (@meta [] $name:ident $docs:expr) => {
        Some($name::meta($crate::metadata::doc_line($docs)))
    };
    (pallet = $pallet:literal; $($body:tt)*) => {
        $crate::storage!(@item $pallet [] [] $($body)*);
    };
}

/// Declares a pallet's constants once each: the Rust constant and its
/// metadata entry (name, type, SCALE value, the `///` doc). Generates
/// `constants_metadata()`.
///
/// ```ignore
/// constants! {
///     /// Smallest native balance an account may hold.
///     ExistentialDeposit: pub const EXISTENTIAL_DEPOSIT: Balance = 1_000;
/// }
/// ```
#[macro_export]
macro_rules! constants {
    ($(
        $(#[doc = $doc:literal])*
        $meta:ident : $vis:vis const $name:ident : $t:ty = $value:expr ;
    )*) => {
        $(
            $(#[doc = $doc])*
            $vis const $name: $t = $value;
        )*
        /// Constants of this pallet for metadata (from its `constants!`
        /// declaration).
        pub fn constants_metadata() -> $crate::alloc::vec::Vec<$crate::ConstantMeta> {
            $crate::alloc::vec![$(
                $crate::ConstantMeta {
                    name: stringify!($meta),
                    ty: $crate::scale_info::meta_type::<$t>(),
                    value: $crate::codec::Encode::encode(&$name),
                    docs: $crate::metadata::doc_line(concat!($($doc),*)),
                }
            ),*]
        }
    };
}

/// Composes a runtime from one line per pallet: `index => Name: module`,
/// where `module` exports `Pallet` (implementing [`Pallet`](crate::Pallet)
/// with that `NAME` and `INDEX`, checked at compile time), `Call`, `Error`
/// and `Event` (a pallet without events is marked `[no_event]`).
///
/// ```ignore
/// compose_runtime! {
///     0 => System: system,
///     1 => Timestamp: timestamp [no_event],
///     2 => Tokens: tokens,
/// }
/// ```
///
/// Derives `RuntimeCall`, `RuntimeEvent` and `RuntimeError` (the line's
/// index is each variant's permanent `#[codec(index)]`), the call's weight,
/// known-call check, inherent check and dispatch, and `AllPallets`: hook
/// fan-out in index order, storage-version upgrades, inherents, `try_state`,
/// the metadata's pallet list and the genesis config.
#[macro_export]
macro_rules! compose_runtime {
    (@events [$($acc:tt)*]) => {
        /// Every event of the runtime (the encoding `System.Events` uses).
        #[derive(
            Clone, PartialEq, Eq, Debug,
            $crate::codec::Encode, $crate::codec::Decode, $crate::codec::DecodeWithMemTracking,
            $crate::scale_info::TypeInfo,
        )]
        pub enum RuntimeEvent { $($acc)* }
    };
    (@events [$($acc:tt)*] $idx:literal $name:ident $m:ident [no_event] ; $($rest:tt)*) => {
        const _: () = assert!(
            !<<$m::Pallet as $crate::Pallet>::Event as $crate::PalletEvent>::EXISTS,
            concat!(stringify!($name), " is marked [no_event] but has events"),
        );
        $crate::compose_runtime!(@events [$($acc)*] $($rest)*);
    };
    (@events [$($acc:tt)*] $idx:literal $name:ident $m:ident [] ; $($rest:tt)*) => {
        const _: () = assert!(
            <<$m::Pallet as $crate::Pallet>::Event as $crate::PalletEvent>::EXISTS,
            concat!(stringify!($name), " has no events: mark it [no_event]"),
        );
        const _: () = {
            let _: fn(<$m::Pallet as $crate::Pallet>::Event) -> $m::Event = |e| e;
        };
        $crate::compose_runtime!(@events [$($acc)*
            #[doc = concat!("Events of the ", stringify!($name), " pallet.")]
            #[codec(index = $idx)]
            $name($m::Event),
        ] $($rest)*);
    };
    ($($idx:literal => $name:ident : $m:ident $([$flag:ident])?),* $(,)?) => {
        // The line's index and name are the pallet's own, and the module's
        // types are the pallet's.
        const _: () = {
            $(
                assert!(
                    <$m::Pallet as $crate::Pallet>::INDEX == $idx,
                    concat!("the index of ", stringify!($name), " differs from its Pallet::INDEX"),
                );
                assert!(
                    $crate::str_eq(<$m::Pallet as $crate::Pallet>::NAME, stringify!($name)),
                    concat!(stringify!($name), " differs from its Pallet::NAME"),
                );
            )*
        };
        #[allow(dead_code, clippy::type_complexity)]
        const _: () = {
            $(
                let _: fn(<$m::Pallet as $crate::Pallet>::Call) -> $m::Call = |c| c;
                let _: fn(<$m::Pallet as $crate::Pallet>::Error) -> $m::Error = |e| e;
            )*
        };

        /// Every call of the runtime. Pallet indices are permanent.
        #[derive(
            Clone, PartialEq, Eq, Debug,
            $crate::codec::Encode, $crate::codec::Decode, $crate::codec::DecodeWithMemTracking,
            $crate::scale_info::TypeInfo,
        )]
        pub enum RuntimeCall {
            $(
                #[doc = concat!("Calls of the ", stringify!($name), " pallet.")]
                #[codec(index = $idx)]
                $name($m::Call),
            )*
        }

        $crate::compose_runtime!(@events [] $($idx $name $m [$($flag)?] ;)*);

        /// Every pallet error, for metadata's outer error enum.
        #[derive(
            Clone, PartialEq, Eq, Debug,
            $crate::codec::Encode, $crate::codec::Decode, $crate::codec::DecodeWithMemTracking,
            $crate::scale_info::TypeInfo,
        )]
        pub enum RuntimeError {
            $(
                #[doc = concat!("Errors of the ", stringify!($name), " pallet.")]
                #[codec(index = $idx)]
                $name($m::Error),
            )*
        }

        impl RuntimeCall {
            /// The call's weight: its compute weight plus its storage
            /// accesses at the database weights.
            pub fn weight(&self) -> u64 {
                match self {
                    $( RuntimeCall::$name(c) => $crate::Dispatch::weight(c)
                        .saturating_add($crate::db_weight($crate::Dispatch::db_access(c))), )*
                }
            }

            /// The most storage the call touches.
            pub fn db_access(&self) -> $crate::DbAccess {
                match self {
                    $( RuntimeCall::$name(c) => $crate::Dispatch::db_access(c), )*
                }
            }

            /// Whether `(pallet, call)` names a call of this runtime.
            pub fn is_known(pallet: u8, call: u8) -> bool {
                match pallet {
                    $( $idx => <$m::Call as $crate::Dispatch>::is_known(call), )*
                    _ => false,
                }
            }

            /// Whether this call must come as an inherent (unsigned, by the author).
            pub fn is_inherent(&self) -> bool {
                match self {
                    $( RuntimeCall::$name(c) => <$m::Pallet as $crate::Pallet>::is_inherent(c), )*
                }
            }

            /// Whether the call only sets its pallet's parameters (what a
            /// governance parameter change may carry).
            pub fn is_parameter_change(&self) -> bool {
                match self {
                    $( RuntimeCall::$name(c) => $crate::Dispatch::is_parameter_change(c), )*
                }
            }

            /// Dispatches the call in `ctx`.
            pub fn dispatch_in(
                self,
                ctx: &$crate::DispatchContext<'_>,
            ) -> Result<(), $crate::__DispatchError> {
                match self {
                    $( RuntimeCall::$name(c) => $crate::Dispatch::dispatch(c, ctx), )*
                }
            }
        }

        /// Every pallet of the runtime, in index order: what the executive,
        /// the metadata and the genesis builder go through.
        pub struct AllPallets;

        impl AllPallets {
            /// `(index, name)` of every pallet.
            pub const PALLETS: &'static [(u8, &'static str)] = &[$(($idx, stringify!($name))),*];

            /// Every pallet's `on_initialize`, in index order.
            pub fn on_initialize(number: $crate::__BlockNumber) {
                $( <$m::Pallet as $crate::Pallet>::on_initialize(number); )*
            }

            /// Every pallet's `on_finalize`, in index order; the first
            /// failure names its pallet's index.
            pub fn on_finalize() -> Result<(), (u8, &'static str)> {
                $( <$m::Pallet as $crate::Pallet>::on_finalize().map_err(|e| ($idx, e))?; )*
                Ok(())
            }

            /// A step of every pallet's storage migration whose version
            /// rose, in index order: the weight used, and whether any
            /// migration continues in the next block.
            pub fn on_runtime_upgrade() -> (u64, bool) {
                let mut weight = 0u64;
                let mut more = false;
                $(
                    match $crate::upgrade::<$m::Pallet>() {
                        Some($crate::Migration::Continue { weight: w }) => {
                            weight = weight.saturating_add(w);
                            more = true;
                        }
                        Some($crate::Migration::Done { weight: w }) => {
                            weight = weight.saturating_add(w);
                        }
                        None => {}
                    }
                )*
                (weight, more)
            }

            /// The inherents of a new block from the author's data, in index order.
            pub fn inherents(data: &$crate::InherentData) -> $crate::alloc::vec::Vec<RuntimeCall> {
                let mut out = $crate::alloc::vec::Vec::new();
                $(
                    if let Some(c) = <$m::Pallet as $crate::Pallet>::create_inherent(data) {
                        out.push(RuntimeCall::$name(c));
                    }
                )*
                out
            }

            /// Every pallet's invariants.
            pub fn try_state() -> Result<(), &'static str> {
                $( <$m::Pallet as $crate::Pallet>::try_state()?; )*
                Ok(())
            }

            /// Per account, the objects it pays an owner reserve for, summed
            /// over every pallet.
            pub fn owned_objects() -> $crate::alloc::collections::BTreeMap<$crate::__AccountId, u32> {
                let mut out = $crate::alloc::collections::BTreeMap::new();
                $( <$m::Pallet as $crate::Pallet>::owned_objects(&mut out); )*
                out
            }

            /// Every pallet's metadata description.
            pub fn metadata() -> $crate::alloc::vec::Vec<$crate::PalletMeta> {
                $crate::alloc::vec![$( $crate::metadata::pallet_meta::<$m::Pallet>() ),*]
            }

            /// The top-level genesis keys the pallets read.
            pub fn genesis_keys() -> $crate::alloc::vec::Vec<&'static str> {
                let mut keys = $crate::alloc::vec::Vec::new();
                $( keys.extend_from_slice(<$m::Pallet as $crate::Pallet>::GENESIS_KEYS); )*
                keys
            }

            /// Builds every pallet's genesis from the patch, in index order;
            /// a key no pallet reads is refused.
            pub fn build_genesis(
                patch: &$crate::__JsonMap,
            ) -> Result<(), $crate::alloc::string::String> {
                $crate::genesis::check_keys(patch, &Self::genesis_keys())?;
                $( $crate::genesis::build::<$m::Pallet>(patch)?; )*
                Ok(())
            }

            /// Checks every pallet's `Dispatch::is_known` against its call
            /// enum's variants (a test runs it).
            pub fn check_known_calls() -> Result<(), $crate::alloc::string::String> {
                $( $crate::testing_support::check_known_calls::<$m::Pallet>()?; )*
                Ok(())
            }
        }
    };
}

/// Declares the runtime's APIs once: each method with its argument and
/// answer types and the expression that answers it. Generates
/// - `METHODS` (every `<Api>_<method>` served) and `dispatch(method, input)`
///   (decode the arguments strictly, answer, encode);
/// - `API_IDS` for `RuntimeVersion.apis`: `(blake2_64(name), version)`,
///   computed at compile time;
/// - `api_metadata()`: the V15 description of every `client` method (`node`
///   methods take or return node-internal bytes and are left out, as
///   Substrate clients leave them);
/// - on wasm32, one export per method, named `<Api>_<method>`, through
///   `export = path` (a `fn(&str, u32, u32) -> u64`);
/// - with `std`, `client::<Api>::<method>(&caller, args…)`: a typed native
///   caller over any [`RuntimeCaller`](crate::apis::RuntimeCaller).
///
/// ```ignore
/// runtime_apis! { export = crate::wasm::call;
///     /// Issued tokens and balances.
///     QstackTokensApi: 1 {
///         /// A token's details, if issued.
///         client fn token_info(issuer: AccountId, code: TokenCode) -> Option<TokenDetails>
///             => tokens::token(&issuer, &code);
///     }
/// }
/// ```
#[macro_export]
macro_rules! runtime_apis {
    (@describe client $method:ident ($($arg:ident : $aty:ty),*) $ret:ty, $docs:expr) => {
        Some($crate::apis::ApiMethodMeta {
            name: stringify!($method),
            inputs: $crate::alloc::vec![
                $((stringify!($arg), $crate::scale_info::meta_type::<$aty>())),*
            ],
            output: $crate::scale_info::meta_type::<$ret>(),
            docs: $crate::metadata::doc_line($docs),
        })
    };
    (@describe node $method:ident ($($arg:ident : $aty:ty),*) $ret:ty, $docs:expr) => {
        None
    };
    (@client client $name:expr) => {
        Some($name)
    };
    (@client node $name:expr) => {
        None
    };
    (export = $export:path;
        $(
            $(#[doc = $adoc:literal])*
            $api:ident : $version:literal {
                $(
                    $(#[doc = $mdoc:literal])*
                    $kind:ident fn $method:ident ( $($arg:ident : $aty:ty),* $(,)? ) -> $ret:ty
                        => $body:expr ;
                )*
            }
        )*
    ) => {
        /// Every entry point this runtime exports, `<Api>_<method>`.
        pub const METHODS: &[&str] = &[
            $($( concat!(stringify!($api), "_", stringify!($method)), )*)*
        ];

        /// Each entry point, `Some` when it is a `client fn` (described in
        /// metadata V15 and callable by clients), `None` for a `node fn`.
        pub const CLIENT_METHODS: &[Option<&str>] = &[
            $($( $crate::runtime_apis!(@client $kind concat!(stringify!($api), "_", stringify!($method))), )*)*
        ];

        const __API_COUNT: usize = [$(stringify!($api)),*].len();

        /// `(blake2_64(api name), version)` of every API, for
        /// `RuntimeVersion.apis` (computed at compile time).
        pub const API_IDS: [($crate::__ApiId, u32); __API_COUNT] = [
            $( ($crate::apis::blake2_64(stringify!($api).as_bytes()), $version), )*
        ];

        /// Runs entry point `method` on SCALE `input`, returning SCALE output.
        pub fn dispatch(
            method: &str,
            input: &[u8],
        ) -> Result<$crate::alloc::vec::Vec<u8>, $crate::apis::ApiError> {
            $($(
                if method == concat!(stringify!($api), "_", stringify!($method)) {
                    #[allow(unused_parens)]
                    let ($($arg,)*): ($($aty,)*) = $crate::apis::decode_args(input)?;
                    let out: $ret = $body;
                    return Ok($crate::codec::Encode::encode(&out));
                }
            )*)*
            Err($crate::apis::ApiError::UnknownMethod)
        }

        /// The APIs with methods described for clients, for V15 metadata.
        pub fn api_metadata() -> $crate::alloc::vec::Vec<$crate::apis::ApiMeta> {
            let mut out = $crate::alloc::vec::Vec::new();
            $(
                let methods: $crate::alloc::vec::Vec<Option<$crate::apis::ApiMethodMeta>> =
                    $crate::alloc::vec![$(
                        $crate::runtime_apis!(@describe $kind $method ($($arg : $aty),*) $ret,
                            concat!($($mdoc),*))
                    ),*];
                let methods: $crate::alloc::vec::Vec<_> = methods.into_iter().flatten().collect();
                if !methods.is_empty() {
                    out.push($crate::apis::ApiMeta {
                        name: stringify!($api),
                        docs: $crate::metadata::doc_line(concat!($($adoc),*)),
                        methods,
                    });
                }
            )*
            out
        }

        #[cfg(target_arch = "wasm32")]
        #[allow(non_snake_case)]
        mod __exports {
            $(
                pub mod $api {
                    $(
                        #[export_name = concat!(stringify!($api), "_", stringify!($method))]
                        pub extern "C" fn $method(ptr: u32, len: u32) -> u64 {
                            $export(concat!(stringify!($api), "_", stringify!($method)), ptr, len)
                        }
                    )*
                }
            )*
        }

        /// Typed native callers of every API method: arguments encoded,
        /// the answer decoded strictly, over any
        /// [`RuntimeCaller`]($crate::apis::RuntimeCaller).
        #[cfg(feature = "std")]
        pub mod client {
            #[allow(unused_imports)]
            use super::*;
            $(
                $(#[doc = $adoc])*
                pub struct $api;
                impl $api {
                    /// The API's name.
                    pub const NAME: &'static str = stringify!($api);
                    /// The API's version.
                    pub const VERSION: u32 = $version;
                    $(
                        $(#[doc = $mdoc])*
                        #[allow(clippy::too_many_arguments)]
                        pub fn $method<C: $crate::apis::RuntimeCaller>(
                            caller: &C,
                            $($arg: $aty),*
                        ) -> Result<$ret, C::Error> {
                            const METHOD: &str = concat!(stringify!($api), "_", stringify!($method));
                            let args = $crate::codec::Encode::encode(&($($arg,)*));
                            let out = caller.call_runtime(METHOD, &args)?;
                            Ok($crate::apis::decode_output(METHOD, &out)?)
                        }
                    )*
                }
            )*
        }
    };
}
