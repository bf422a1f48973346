//! Phase 1b: the annotated item. A free function with `state = param`, or
//! an `impl` block whose methods carry `#[resumable(state = ..)]`; each
//! resumable function is checked here ([`check`]: signature, state place)
//! before the later phases see its body.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{Attribute, Block, FnArg, Ident, Signature, Type, Visibility};

use crate::args::{Args, StatePlace};
use crate::bindings::{pat_bindings, PatBinding};
use crate::errors::Errors;

/// One function to transform.
#[derive(Clone)]
pub struct FnInput {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub sig: Signature,
    pub block: Block,
    pub args: Args,
    /// The `impl`'s self type, for methods.
    pub self_ty: Option<Type>,
    /// Names of the generic type parameters in scope (fn and impl).
    pub generics: Vec<String>,
}

impl FnInput {
    /// A free function.
    pub fn from_fn(f: syn::ItemFn, args: Args) -> Self {
        FnInput {
            generics: type_params(&f.sig.generics),
            attrs: f.attrs,
            vis: f.vis,
            sig: f.sig,
            block: *f.block,
            args,
            self_ty: None,
        }
    }

    /// A method of an `impl` block with the given self type and generic
    /// parameters; its `#[resumable(..)]` attribute is left out.
    pub fn from_method(
        m: &syn::ImplItemFn,
        args: Args,
        self_ty: Option<Type>,
        impl_generics: &[String],
    ) -> Self {
        let mut generics = impl_generics.to_vec();
        generics.extend(type_params(&m.sig.generics));
        FnInput {
            attrs: m
                .attrs
                .iter()
                .filter(|a| !is_resumable_attr(a))
                .cloned()
                .collect(),
            vis: m.vis.clone(),
            sig: m.sig.clone(),
            block: m.block.clone(),
            args,
            self_ty,
            generics,
        }
    }
}

/// Whether `attr` is `#[resumable]` or `#[io_model::resumable]`.
pub fn is_resumable_attr(attr: &Attribute) -> bool {
    let segs = &attr.path().segments;
    match segs.len() {
        1 => segs[0].ident == "resumable",
        2 => segs[0].ident == "io_model" && segs[1].ident == "resumable",
        _ => false,
    }
}

/// The names of the generic type parameters of `generics`.
pub fn type_params(generics: &syn::Generics) -> Vec<String> {
    generics
        .type_params()
        .map(|t| t.ident.to_string())
        .collect()
}

/// A function whose signature and state place passed the checks.
pub struct Checked {
    pub input: FnInput,
    pub enum_name: Ident,
    /// The statements that bind `__io_p: &mut Enum` to the state place.
    pub place: TokenStream,
    pub ret_ty: Type,
    /// Where an error type without `From<CompletionError>` is reported.
    pub ret_span: Span,
    /// The parameters, for reading the types of locals.
    pub params: Vec<PatBinding>,
}

/// `read_two` -> `ReadTwo`.
pub fn pascal_case(name: &str) -> String {
    name.trim_start_matches("r#")
        .split('_')
        .filter(|s| !s.is_empty())
        .map(|s| {
            let mut c = s.chars();
            match c.next() {
                Some(f) => f.to_uppercase().chain(c).collect::<String>(),
                None => String::new(),
            }
        })
        .collect()
}

/// The enum name a function's state gets.
pub fn enum_name(input: &FnInput) -> Ident {
    derived_enum_name(input).unwrap_or_else(|| Ident::new("State", input.sig.ident.span()))
}

/// The enum name, or `None` where the function's name gives none (`_1`).
fn derived_enum_name(input: &FnInput) -> Option<Ident> {
    match &input.args.name {
        Some(n) => Some(n.value.clone()),
        None => {
            let name = format!("{}State", pascal_case(&input.sig.ident.to_string()));
            syn::parse_str::<Ident>(&name)
                .ok()
                .map(|i| Ident::new(&i.to_string(), input.sig.ident.span()))
        }
    }
}

/// Checks the return type: `Result<IOResult<T>, E>` or an alias that
/// spells `..Result<IOResult<T>>`.
fn check_return_type(sig: &Signature, errors: &mut Errors) -> Option<Type> {
    const FIX: &str = "a #[resumable] function returns `Result<IOResult<T>, E>` (or an alias such as \
                       `io_model::Result<IOResult<T>>`) where `E: From<CompletionError>`; change the \
                       return type to that, with `T` the value it returns when done";
    // Any alias whose name ends in `Result` is accepted (`DbResult<T>`); if it
    // does not spell `Result<IOResult<T>, E>`, the generated `Ok(..)` fails
    // to type-check at the return type.
    let syn::ReturnType::Type(_, ty) = &sig.output else {
        errors.push(
            sig.paren_token.span.close(),
            format!("this function returns nothing; {FIX}"),
        );
        return None;
    };
    let ok = (|| {
        let Type::Path(p) = &**ty else { return None };
        let last = p.path.segments.last()?;
        if !last.ident.to_string().ends_with("Result") {
            return None;
        }
        let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
            return None;
        };
        let Some(syn::GenericArgument::Type(Type::Path(inner))) = args.args.first() else {
            return None;
        };
        (inner.path.segments.last()?.ident == "IOResult").then_some(())
    })();
    if ok.is_none() {
        errors.push_spanned(ty, format!("wrong return type: {FIX}"));
        return None;
    }
    Some((**ty).clone())
}

/// The statements that bind `__io_p: &mut Enum` to the state place, after
/// checking the place against the signature. The generated function runs
/// them twice: to take the state on entry and to put it back on return.
fn state_place(input: &FnInput, enum_name: &Ident, errors: &mut Errors) -> Option<TokenStream> {
    let Some(state) = &input.args.state else {
        if input.args.state_given {
            // A malformed `state = ..` was reported where it stands.
            return None;
        }
        let span = input.args.span.unwrap_or_else(|| input.sig.ident.span());
        let example = if input.sig.receiver().is_some() {
            "#[resumable(state = self.field)]"
        } else {
            "#[io_model::resumable(state = st)] with a parameter `st: &mut FState`"
        };
        errors.push(
            span,
            format!(
                "#[resumable] needs to know where `{}` keeps its state between calls; add `state = ..`: {example}",
                input.sig.ident
            ),
        );
        return None;
    };
    match &state.value {
        StatePlace::SelfField { expr, .. } => {
            let Some(receiver) = input.sig.receiver() else {
                errors.push_spanned(
                    expr,
                    "`state = self..` needs a method with `&mut self`; this function has no `self`: \
                     pass the state as a parameter, `state = st` with `st: &mut State`",
                );
                return None;
            };
            let by_mut_ref = match &*receiver.ty {
                Type::Reference(r) => r.mutability.is_some(),
                _ => false,
            };
            if receiver.reference.is_none() && !by_mut_ref {
                errors.push_spanned(
                    receiver,
                    format!(
                        "`{}` takes `self` by value, so it cannot keep its state in `self` between calls; \
                         take `&mut self`",
                        input.sig.ident
                    ),
                );
                return None;
            }
            if !by_mut_ref {
                errors.push_spanned(
                    receiver,
                    format!(
                        "`{}` takes `&self`, but its state in `{}` is written on every call; take \
                         `&mut self`, or keep the state behind a lock and name the guard: \
                         `state = {}.lock().unwrap()`",
                        input.sig.ident,
                        expr.to_token_stream(),
                        expr.to_token_stream()
                    ),
                );
                return None;
            }
            // Through a checked accessor, so that a field of the wrong type
            // gives one error at the user's `state = ..` with the fix.
            let span = expr.span();
            let p = crate::names::internal("__io_p");
            Some(quote::quote_spanned!(span=>
                let #p: &mut #enum_name = ::io_model::__private::state::<#enum_name, _>(&mut #expr);
            ))
        }
        StatePlace::Guard(expr) => {
            // The guard lives only as long as the statements that take or
            // put back the state; checked so that a guard of the wrong type
            // gives one error at the user's expression.
            let span = expr.span();
            let p = crate::names::internal("__io_p");
            let g = crate::names::internal("__io_g");
            Some(quote::quote_spanned!(span=>
                let mut #g = #expr;
                let #p: &mut #enum_name = ::io_model::__private::guard_state::<#enum_name, _>(&mut #g);
            ))
        }
        StatePlace::Param(name) => {
            let param = input.sig.inputs.iter().find_map(|arg| match arg {
                FnArg::Typed(t) => match &*t.pat {
                    syn::Pat::Ident(p) if p.ident == *name => Some(t),
                    _ => None,
                },
                FnArg::Receiver(_) => None,
            });
            let Some(param) = param else {
                errors.push(
                    name.span(),
                    format!(
                        "`{name}` is not a parameter of `{}`; name the parameter that holds the state \
                         (`{name}: &mut {enum_name}`), or a field of `self`",
                        input.sig.ident
                    ),
                );
                return None;
            };
            let good = match &*param.ty {
                Type::Reference(r) if r.mutability.is_some() => match &*r.elem {
                    Type::Path(p) => p
                        .path
                        .segments
                        .last()
                        .is_some_and(|s| s.ident == *enum_name && s.arguments.is_empty()),
                    _ => false,
                },
                _ => false,
            };
            if !good {
                errors.push_spanned(
                    &param.ty,
                    format!(
                        "the state parameter `{name}` must have type `&mut {enum_name}`, the enum this \
                         attribute generates for `{}`",
                        input.sig.ident
                    ),
                );
                return None;
            }
            let p = crate::names::internal("__io_p");
            Some(quote::quote!(let #p: &mut #enum_name = &mut *#name;))
        }
    }
}

fn check_signature(sig: &Signature, errors: &mut Errors) {
    if let Some(a) = &sig.asyncness {
        errors.push(
            a.span(),
            "a #[resumable] function is a hand-driven state machine, not a future; remove `async`",
        );
    }
    if let Some(c) = &sig.constness {
        errors.push(
            c.span(),
            "a #[resumable] function does I/O and cannot be `const`; remove `const`",
        );
    }
}

/// The function's parameters as bindings, for reading local types.
fn params(sig: &Signature) -> Vec<PatBinding> {
    let mut out = Vec::new();
    for arg in &sig.inputs {
        if let FnArg::Typed(t) = arg {
            pat_bindings(&t.pat, Some(&t.ty), &mut out);
        }
    }
    out
}

/// Checks the signature and the state place of one function.
pub fn check(input: FnInput, errors: &mut Errors) -> Option<Checked> {
    check_signature(&input.sig, errors);
    let ret_ty = check_return_type(&input.sig, errors);
    if derived_enum_name(&input).is_none() {
        errors.push(
            input.sig.ident.span(),
            format!(
                "no enum name can be made from `{}`; name the state enum: `name = MyState`",
                input.sig.ident
            ),
        );
    }
    let enum_name = enum_name(&input);
    let place = state_place(&input, &enum_name, errors);

    if let Some(crate::args::Spanned {
        value: StatePlace::Param(param),
        ..
    }) = &input.args.state
    {
        check_state_not_shadowed(&input.block, param, errors);
    }

    if let Some(ident) = reserved_ident(&input.block) {
        errors.push(
            ident.span(),
            format!(
                "`{ident}`: names starting with `__io_` are reserved for the code #[resumable] \
                 generates; rename it"
            ),
        );
        return None;
    }
    let ret_span = match &input.sig.output {
        syn::ReturnType::Type(_, ty) => ty.span(),
        syn::ReturnType::Default => input.sig.ident.span(),
    };
    let params = params(&input.sig);
    Some(Checked {
        ret_ty: ret_ty?,
        place: place?,
        enum_name,
        ret_span,
        params,
        input,
    })
}

/// The generated code writes the state through the state parameter inside
/// the body, so no local may take its name.
fn check_state_not_shadowed(body: &Block, param: &Ident, errors: &mut Errors) {
    use syn::visit::Visit;
    struct V<'a> {
        param: &'a Ident,
        found: Vec<Ident>,
    }
    impl<'ast> Visit<'ast> for V<'_> {
        fn visit_pat_ident(&mut self, p: &'ast syn::PatIdent) {
            if p.ident == *self.param {
                self.found.push(p.ident.clone());
            }
            syn::visit::visit_pat_ident(self, p);
        }
        fn visit_item(&mut self, _: &'ast syn::Item) {}
    }
    let mut v = V {
        param,
        found: Vec::new(),
    };
    v.visit_block(body);
    for ident in v.found {
        errors.push(
            ident.span(),
            format!(
                "`{param}` is the state parameter, which the generated code writes on every \
                 suspension; a local of the same name would hide it; rename this one"
            ),
        );
    }
}

/// The first identifier in `body` that uses the generated code's prefix.
fn reserved_ident(body: &Block) -> Option<Ident> {
    use std::ops::ControlFlow;
    // One buffer for the names read, not a new string for each.
    let mut name = String::new();
    crate::scan::find(body, |s| match s {
        crate::scan::Seen::Ident(i) => {
            use std::fmt::Write;
            name.clear();
            let _ = write!(name, "{i}");
            match name.starts_with("__io_") {
                true => ControlFlow::Break(i.clone()),
                false => ControlFlow::Continue(()),
            }
        }
        crate::scan::Seen::Literal(_) => ControlFlow::Continue(()),
    })
}

#[cfg(test)]
mod tests {
    use super::reserved_ident;

    fn first(body: &str) -> Option<String> {
        let block: syn::Block = syn::parse_str(body).expect("a block");
        reserved_ident(&block).map(|i| i.to_string())
    }

    #[test]
    fn reserved_names_are_found_wherever_the_body_holds_them() {
        assert_eq!(first("{ let a = 1; f(a); }"), None);
        assert_eq!(first("{ let __io_a = 1; }").as_deref(), Some("__io_a"));
        assert_eq!(first("{ x.__io_m(); }").as_deref(), Some("__io_m"));
        assert_eq!(first("{ '__io_l: loop {} }").as_deref(), Some("__io_l"));
        // Tokens syn keeps unparsed: macro and attribute arguments.
        assert_eq!(first("{ wait!(s.io(__io_c)); }").as_deref(), Some("__io_c"));
        assert_eq!(first("{ m!{ [(__io_d)] }; }").as_deref(), Some("__io_d"));
        assert_eq!(first("{ #[cfg(__io_e)] f(); }").as_deref(), Some("__io_e"));
        // Items in the body.
        assert_eq!(first("{ fn g(__io_f: u8) {} }").as_deref(), Some("__io_f"));
        // The first in source order.
        assert_eq!(
            first("{ let __io_g = 1; let __io_h = 2; }").as_deref(),
            Some("__io_g")
        );
        // A name that only contains the prefix is the user's.
        assert_eq!(first("{ let a__io_b = 1; }"), None);
    }
}
