//! The transform behind `#[io_model::resumable]`, as plain functions that
//! tests and the fuzz target call directly.
//!
//! The phases, each in its own module, in the order they run
//! ([`expand_fn`] runs them):
//!
//! 1. [`args`] and [`item`]: the attribute's arguments and the annotated
//!    item (a free function or an `impl` block), the signature checks;
//! 2. [`points`]: the suspension markers, checked for position, numbered
//!    and replaced by placeholders;
//! 3. [`lower`]: the body as a tree of statements ([`ir`]), loops holding a
//!    point as plain `loop`s, values of constructs holding a point through
//!    carriers;
//! 4. [`resolve`]: an id for every local, and what each statement reads,
//!    declares and assigns (types through [`bindings`]);
//! 5. [`arms`]: the arms of the generated `match`, one per suspension
//!    point and merge, each piece of user code in one arm;
//! 6. [`liveness`]: which locals each arm needs;
//! 7. [`layout`]: the variants of the state enum;
//! 8. [`graph`]: the state graph (`GRAPH`, Graphviz DOT);
//! 9. [`in_place`]: which arms work on their variant where it lies (plain
//!    data bound by reference, arrays left in the state);
//! 10. [`codegen`]: the enum and the rewritten function.
//!
//! Shared leaf modules: [`errors`], [`ids`], [`names`], [`bindings`] (reading
//! the types of locals), [`moves`] (whether code may move out of a name),
//! [`conditions`] (where a local is live, as a formula over `#[cfg]`s),
//! [`scan`] (every name a body mentions); [`ir`]
//! holds the data of phase 3.
//!
//! `docs/transform.md` in the repository shows one expansion end to end.

pub mod args;
pub mod arms;
pub mod bindings;
pub mod codegen;
pub mod conditions;
pub mod errors;
pub mod graph;
pub mod ids;
pub mod in_place;
pub mod ir;
pub mod item;
pub mod layout;
pub mod liveness;
pub mod lower;
pub mod moves;
pub mod names;
pub mod points;
pub mod resolve;
pub mod scan;

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use syn::{Attribute, ImplItem, Item};

use args::Args;
use errors::Errors;
use item::{is_resumable_attr, FnInput};

/// Expands the attribute: `Ok` with the generated code, or every error of
/// the input combined. Never panics.
///
/// ```
/// use quote::quote;
///
/// let out = io_model_transform::expand(
///     quote!(state = st),
///     quote!(fn f(st: &mut FState, c: Completion) -> Result<IOResult<()>> {
///         wait!(c);
///         Ok(IOResult::Done(()))
///     }),
/// )
/// .unwrap();
/// assert!(out.to_string().contains("enum FState"));
///
/// let err = io_model_transform::expand(quote!(), quote!(struct S;)).unwrap_err();
/// assert!(err.to_string().contains("goes on a function"));
/// ```
pub fn expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let mut errors = Errors::default();
    let out = expand_into(attr, item, &mut errors);
    errors.finish()?;
    Ok(out)
}

/// Expands the attribute; on errors, emits them next to a stand-in of the
/// item (see [`codegen::fallback`]) so that one mistake gives one error.
pub fn expand_or_fallback(attr: TokenStream, item: TokenStream) -> TokenStream {
    match expand(attr.clone(), item.clone()) {
        Ok(out) => out,
        Err(err) => {
            let errors = err.into_compile_error();
            let stand_in = fallback(attr, item);
            quote!(#errors #stand_in)
        }
    }
}

/// The tokens inside `#[resumable(..)]` (empty for `#[resumable]`).
fn attr_tokens(attr: &Attribute, errors: &mut Errors) -> Option<TokenStream> {
    match &attr.meta {
        syn::Meta::Path(_) => Some(TokenStream::new()),
        syn::Meta::List(l) => Some(l.tokens.clone()),
        syn::Meta::NameValue(nv) => {
            errors.push_spanned(
                nv,
                "write the arguments in parentheses: `#[resumable(state = self.field)]`",
            );
            None
        }
    }
}

fn expand_into(attr: TokenStream, item: TokenStream, errors: &mut Errors) -> TokenStream {
    let item: Item = match syn::parse2(item) {
        Ok(item) => item,
        Err(e) => {
            errors.add(e);
            return TokenStream::new();
        }
    };
    match item {
        Item::Fn(f) => {
            if let Some(receiver) = f.sig.receiver() {
                errors.push_spanned(
                    receiver,
                    format!(
                        "#[io_model::resumable] on a method must go on its `impl` block: write \
                         `#[io_model::resumable]` above the `impl` and `#[resumable(state = self.field)]` \
                         on `{}`",
                        f.sig.ident
                    ),
                );
                return TokenStream::new();
            }
            let args = Args::parse(attr, errors);
            match expand_fn(FnInput::from_fn(f, args), errors) {
                Some((func, state)) => quote!(#func #state),
                None => TokenStream::new(),
            }
        }
        Item::Impl(mut imp) => {
            if !attr.is_empty() {
                errors.push_spanned(
                    &attr,
                    "on an `impl` block #[io_model::resumable] takes no arguments; put \
                     `#[resumable(state = self.field)]` on each resumable method instead",
                );
            }
            let impl_generics = item::type_params(&imp.generics);
            // `Self` in stored types is replaced by the self type when that
            // names no generic parameter.
            let self_ty = (impl_generics.is_empty() && imp.generics.lifetimes().next().is_none())
                .then(|| (*imp.self_ty).clone());
            let mut enums = TokenStream::new();
            let mut found = false;
            for it in &mut imp.items {
                let ImplItem::Fn(m) = it else { continue };
                let Some(pos) = m.attrs.iter().position(is_resumable_attr) else {
                    continue;
                };
                found = true;
                let attr = m.attrs.remove(pos);
                let Some(tokens) = attr_tokens(&attr, errors) else {
                    continue;
                };
                let args = Args::parse(tokens, errors);
                let input = FnInput::from_method(m, args, self_ty.clone(), &impl_generics);
                let Some((func, state)) = expand_fn(input, errors) else {
                    continue;
                };
                enums.extend(state);
                match syn::parse2::<syn::ImplItemFn>(func) {
                    Ok(f) => *m = f,
                    Err(e) => errors.add(syn::Error::new(
                        m.sig.ident.span(),
                        format!("BUG: io-model's #[resumable] generated a method that does not parse: {e}"),
                    )),
                }
            }
            if !found {
                errors.push_spanned(
                    &imp.self_ty,
                    "this `impl` block has no `#[resumable(state = ..)]` method; mark the methods to \
                     transform, or remove #[io_model::resumable] from the block",
                );
            }
            quote!(#imp #enums)
        }
        other => {
            errors.push_spanned(
                other,
                "#[io_model::resumable] goes on a function (`state = param`) or on an `impl` block \
                 whose methods carry `#[resumable(state = self.field)]`",
            );
            TokenStream::new()
        }
    }
}

/// Transforms one function: `(function, state enum)`, or `None` with the
/// errors recorded. The phases run in order, each from the data the
/// previous one made.
fn expand_fn(input: FnInput, errors: &mut Errors) -> Option<(TokenStream, TokenStream)> {
    let checked = item::check(input, errors);
    let mut block = match &checked {
        Some(c) => c.input.block.clone(),
        None => return None,
    };
    let checked = checked?;
    let mut finder = points::Finder::new(errors);
    finder.run(&mut block);
    let points = finder.points;
    let mut body = lower::lower(&block, errors);
    resolve::resolve(&mut body, &points, &checked.params);
    // Arms with every merge a jump first, to learn which merges must stay
    // jumps for drops to happen where the rules say; then the real ones.
    let finest = arms::all_cuts(&body);
    let finest_live = liveness::analyze(&body, &points, &finest.arms);
    let pinned = liveness::pins(&body, &finest.arms, &finest_live);
    let arms = arms::build(&body, finest, &pinned);
    let live = liveness::analyze(&body, &points, &arms);
    liveness::params_in_place(&mut body, &arms, &live, &checked.input.block);
    let cx = layout::Context {
        enum_name: &checked.enum_name,
        self_ty: checked.input.self_ty.as_ref(),
        generics: &checked.input.generics,
    };
    let layout = layout::layout(&cx, &body, &points, &arms, &live, errors);
    if !errors.is_empty() {
        return None;
    }
    let in_place = in_place::decide(&checked.input, &body, &arms, &live, &layout);
    let parts = codegen::Parts {
        checked: &checked,
        points: &points,
        body: &body,
        arms: &arms,
        live: &live,
        layout: &layout,
        in_place: &in_place,
    };
    let func = codegen::function(&parts, errors);
    let state = codegen::state_enum(&parts);
    errors.is_empty().then_some((func, state))
}

/// The stand-in of an item that has errors.
fn fallback(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut ignored = Errors::default();
    let Ok(item) = syn::parse2::<Item>(item.clone()) else {
        return TokenStream::new();
    };
    match item {
        Item::Fn(f) if f.sig.receiver().is_none() => {
            let args = Args::parse(attr, &mut ignored);
            let input = FnInput::from_fn(f, args);
            codegen::fallback(&input, &item::enum_name(&input))
        }
        Item::Fn(f) => f.into_token_stream(),
        Item::Impl(mut imp) => {
            let mut enums = TokenStream::new();
            let mut methods = Vec::new();
            imp.items.retain(|it| {
                let ImplItem::Fn(m) = it else { return true };
                let Some(attr) = m.attrs.iter().find(|a| is_resumable_attr(a)) else {
                    return true;
                };
                let tokens = attr_tokens(attr, &mut ignored).unwrap_or_default();
                let input = FnInput::from_method(m, Args::parse(tokens, &mut ignored), None, &[]);
                methods.push(codegen::stand_in_fn(&input));
                enums.extend(codegen::stand_in_enum(&input.vis, &item::enum_name(&input)));
                false
            });
            let (impl_generics, _, where_clause) = imp.generics.split_for_impl();
            let (attrs, inner) = codegen::split_attrs(&imp.attrs);
            let trait_ = imp
                .trait_
                .as_ref()
                .map(|(bang, path, for_)| quote!(#bang #path #for_));
            let self_ty = &imp.self_ty;
            let items = &imp.items;
            let unsafety = &imp.unsafety;
            let defaultness = &imp.defaultness;
            quote! {
                #(#attrs)*
                #defaultness #unsafety impl #impl_generics #trait_ #self_ty #where_clause {
                    #(#inner)*
                    #(#items)*
                    #(#methods)*
                }
                #enums
            }
        }
        other => other.into_token_stream(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors_of(attr: TokenStream, item: TokenStream) -> String {
        match expand(attr, item) {
            Ok(_) => String::new(),
            Err(e) => e
                .into_iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }

    #[test]
    fn reserved_names_are_refused_not_indexed() {
        let e = errors_of(
            quote!(state = st),
            quote!(
                fn f(st: &mut FState) -> Result<IOResult<()>> {
                    __io_point!(99);
                    let x = __io_probe_7;
                    Ok(IOResult::Done(()))
                }
            ),
        );
        assert!(e.contains("reserved"), "{e}");
    }

    #[test]
    fn one_compile_shows_every_problem() {
        let e = errors_of(
            quote!(state = st, colour = red),
            quote!(
                fn f(st: &mut FState, c: Completion) -> Result<IOResult<u8>> {
                    let a = compute();
                    wait!(c);
                    foo(call!(op()));
                    Ok(IOResult::Done(a))
                }
            ),
        );
        assert!(e.contains("unknown argument `colour`"), "{e}");
        assert!(e.contains("`a` is held across the `wait!`"), "{e}");
        assert!(
            e.contains("`call!` cannot stand inside a function call"),
            "{e}"
        );
    }

    #[test]
    fn not_a_function_or_impl() {
        let e = errors_of(
            quote!(),
            quote!(
                struct S;
            ),
        );
        assert!(e.contains("goes on a function"), "{e}");
        assert!(!errors_of(quote!(), quote!(fn f {})).is_empty());
    }

    #[test]
    fn expansion_has_no_unsafe_no_pin_no_allocation() {
        let out = expand(
            quote!(state = st),
            quote!(
                fn f(st: &mut FState, c: Completion, v: Vec<u8>) -> Result<IOResult<usize>> {
                    let n: usize = v.len();
                    wait!(c);
                    yield_now!();
                    let d: u32 = call!(sub());
                    Ok(IOResult::Done(n + d as usize))
                }
            ),
        )
        .unwrap()
        .to_string();
        for banned in ["unsafe", "Pin", "Box", "Vec :: new", "vec !", "alloc"] {
            assert!(!out.contains(banned), "expansion contains `{banned}`");
        }
    }

    /// Where a point under a `#[cfg]` that holds jumps away inside a value,
    /// the value's carrier is never assigned: its declaration and the code
    /// that reads it after the value are compiled only where the `#[cfg]`
    /// does not hold (difftest F20, F22), or rustc asks for its type.
    #[test]
    fn code_after_a_point_under_a_holding_cfg_is_compiled_only_where_it_does_not() {
        let out = expand(
            quote!(state = st),
            quote!(
                fn f(st: &mut FState, c: Completion) -> Result<IOResult<u64>> {
                    let mut w: u64 = 0;
                    w += {
                        #[cfg(feature = "x")]
                        wait!(c);
                        w % 7
                    };
                    Ok(IOResult::Done(w))
                }
            ),
        )
        .unwrap()
        .to_string();
        let not = "# [cfg (not (all (feature = \"x\")))]";
        assert!(out.contains(&format!("{not} let __io_v0 ;")), "{out}");
        // The value's block, then what follows it, in a block of its own.
        assert!(
            out.contains(&format!("{not} {{ __io_v0 = w % 7 ; }} }} {not} {{")),
            "{out}"
        );
    }

    /// A merge reached only where a `#[cfg]` does not hold exists only
    /// there (difftest F25, seed 47 program 62968): where it holds, the
    /// code after the statement was copied into the arm after the point,
    /// and the merge's own arm, compiled everywhere, read a carrier that no
    /// compiled code stored.
    #[test]
    fn merge_reached_only_under_cfg_is_compiled_only_there() {
        let out = expand(
            quote!(state = st),
            quote!(
                fn f(st: &mut FState, env: &Env) -> Result<IOResult<u64>> {
                    let mut y: u64 = 0;
                    let mut k: u64 = 0;
                    loop {
                        if k >= 1 {
                            break;
                        }
                        k += 1;
                        y += {
                            #[cfg(not(any()))]
                            wait!(env.io(2));
                            y + 1
                        };
                        if y > 5 {
                            wait!(env.io(4));
                        }
                    }
                    Ok(IOResult::Done(y))
                }
            ),
        )
        .unwrap()
        .to_string();
        let only = "# [cfg (any (all (not (all (not (any ()))))))]";
        let arm = format!("{only} FState :: __Merge");
        assert!(out.contains(&arm), "{out}");
        let variant = format!("{only} # [doc (hidden)] __Merge");
        assert!(out.contains(&variant), "{out}");
    }

    /// A local used after a point only by code that follows a statement
    /// diverging under `#[cfg]` is stored only where the `#[cfg]` is off
    /// (difftest F26): where it is on, the local is dead after the point and
    /// dropped there, and the unreachable code after the statement still
    /// compiles against a declared, never assigned local.
    #[test]
    fn local_live_only_where_a_cfg_is_off_is_stored_only_there() {
        let out = expand(
            quote!(state = st),
            quote!(
                fn f(st: &mut FState, env: &Env) -> Result<IOResult<u64>> {
                    let m: Noisy = env.noisy(1);
                    wait!(env.io(1));
                    #[cfg(feature = "x")]
                    return Ok(IOResult::Done(0));
                    Ok(IOResult::Done(m.id()))
                }
            ),
        )
        .unwrap()
        .to_string();
        let off = "# [cfg (not (all (feature = \"x\")))]";
        let on = "# [cfg (not (all (not (all (feature = \"x\")))))]";
        let field = "# [doc = \" The local `m`.\"] m : Noisy ,";
        assert!(out.contains(&format!("{off} {field}")), "{out}");
        assert!(out.contains(&format!("{off} m : m ,")), "{out}");
        assert!(out.contains(&format!("{on} let m : Noisy ;")), "{out}");
        assert!(out.contains(&format!("{off} let m =")), "{out}");
    }

    /// A `let` under `#[cfg]` declares its local in no configuration before
    /// it: where the attribute is false the statement is not there, but the
    /// local is not live above it either, so it is not stored at an earlier
    /// point (which would ask for a type it need not have).
    #[test]
    fn a_local_under_cfg_is_not_live_before_its_let() {
        let out = expand(
            quote!(state = st),
            quote!(
                fn f(st: &mut FState, env: &Env) -> Result<IOResult<u64>> {
                    wait!(env.io(1));
                    #[cfg(feature = "x")]
                    let k: u64 = 1;
                    #[cfg(not(feature = "x"))]
                    let k = env.n();
                    Ok(IOResult::Done(k))
                }
            ),
        );
        let out = out.map_err(|e| e.to_string()).unwrap().to_string();
        assert!(!out.contains("k : u64 ,"), "{out}");
    }

    /// A merge's carrier is typed where the local it carries is (difftest
    /// F23): under `#[cfg]`, or after a `return`, the code that would store
    /// it first may not be compiled, and a use would meet an unknown type.
    #[test]
    fn merge_carriers_are_typed_where_their_local_is() {
        let out = expand(
            quote!(state = st),
            quote!(
                fn f(st: &mut FState, c: Completion, go: bool) -> Result<IOResult<u64>> {
                    let t: (u64, String) = (1, String::new());
                    if go {
                        wait!(c);
                    }
                    Ok(IOResult::Done(t.1.len() as u64))
                }
            ),
        )
        .unwrap()
        .to_string();
        assert!(
            out.contains(": :: core :: option :: Option < (u64 , String) > = __io_rt :: None"),
            "{out}"
        );
    }
}
