//! Phase 1a: the attribute's arguments, each kept with its span.
//!
//! `state = self.field`, `state = self.a.b`, `state = param` or a guard
//! expression (`state = self.st.lock().unwrap()`), and `name = Ident`. Duplicates and unknown arguments are rejected here;
//! combinations are checked in [`crate::item`].

use proc_macro2::{Span, TokenStream};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, Token};

use crate::errors::Errors;

/// One parsed argument value with the span of its key.
#[derive(Clone)]
pub struct Spanned<T> {
    pub value: T,
    pub key_span: Span,
}

/// Where the state lives.
#[derive(Clone)]
pub enum StatePlace {
    /// `self.a.b`: the field path after `self`.
    SelfField {
        expr: Box<Expr>,
        fields: Vec<syn::Member>,
    },
    /// A parameter of the function: `st`.
    Param(Ident),
    /// An expression whose value derefs mutably to the state enum, such as
    /// `self.st.lock().unwrap()` or `self.st.borrow_mut()`: evaluated once
    /// to take the state on entry and once to put it back on return.
    Guard(Box<Expr>),
}

/// The arguments of one `#[resumable(..)]` / `#[io_model::resumable(..)]`.
#[derive(Default, Clone)]
pub struct Args {
    pub state: Option<Spanned<StatePlace>>,
    pub name: Option<Spanned<Ident>>,
    /// Span of the whole argument list, for errors about a missing argument.
    pub span: Option<Span>,
    /// Whether a `state` key was written (even if its value was refused).
    pub state_given: bool,
}

struct RawArg {
    key: Ident,
    value: Expr,
}

impl Parse for RawArg {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let key: Ident = input.parse()?;
        if !input.peek(Token![=]) {
            // Skip to the next argument so the others are still checked.
            while !input.is_empty() && !input.peek(Token![,]) {
                input.parse::<proc_macro2::TokenTree>()?;
            }
            return Err(syn::Error::new(
                key.span(),
                format!("expected `{key} = ..`: arguments are written `state = self.field` or `name = MyState`"),
            ));
        }
        input.parse::<Token![=]>()?;
        let value: Expr = input.parse()?;
        Ok(RawArg { key, value })
    }
}

impl Args {
    /// Parses an argument list (the tokens inside the parentheses).
    pub fn parse(tokens: TokenStream, errors: &mut Errors) -> Args {
        let mut args = Args::default();
        if tokens.is_empty() {
            return args;
        }
        args.span = Some(span_of(&tokens));
        let parser = Punctuated::<RawArg, Token![,]>::parse_terminated;
        let raw = match syn::parse::Parser::parse2(parser, tokens) {
            Ok(raw) => raw,
            Err(e) => {
                errors.add(e);
                return args;
            }
        };
        for arg in raw {
            let key = arg.key.to_string();
            match key.as_str() {
                "state" => {
                    args.state_given = true;
                    if args.state.is_some() {
                        errors.push(
                            arg.key.span(),
                            "`state` is given twice; keep one `state = ..`",
                        );
                        continue;
                    }
                    match state_place(&arg.value) {
                        Some(value) => {
                            args.state = Some(Spanned {
                                value,
                                key_span: arg.key.span(),
                            })
                        }
                        None => errors.push_spanned(
                            &arg.value,
                            "`state` must say where this function's state is kept between calls: \
                             a field of `self` (`state = self.field`), a parameter (`state = param`), \
                             or a guard expression that derefs mutably to the state \
                             (`state = self.st.lock().unwrap()`, `state = self.st.borrow_mut()`)",
                        ),
                    }
                }
                "name" => {
                    if args.name.is_some() {
                        errors.push(
                            arg.key.span(),
                            "`name` is given twice; keep one `name = ..`",
                        );
                        continue;
                    }
                    let is_plain_ident = |p: &syn::ExprPath| {
                        p.path.get_ident().is_some_and(|i| {
                            syn::parse_str::<Ident>(&i.to_string()).is_ok()
                                && !i.to_string().starts_with("r#")
                        })
                    };
                    match &arg.value {
                        Expr::Path(p) if p.qself.is_none() && is_plain_ident(p) => {
                            args.name = Some(Spanned {
                                value: p.path.get_ident().cloned().expect("checked above"),
                                key_span: arg.key.span(),
                            })
                        }
                        other => errors.push_spanned(
                            other,
                            "`name` takes the state enum's name, a plain identifier that is not a \
                             keyword: `name = ReadState`",
                        ),
                    }
                }
                _ => errors.push(
                    arg.key.span(),
                    format!(
                        "unknown argument `{key}`; #[resumable] takes `state = ..` and `name = ..`"
                    ),
                ),
            }
        }
        args
    }
}

fn span_of(tokens: &TokenStream) -> Span {
    let mut iter = tokens.clone().into_iter();
    let first = iter
        .next()
        .map(|t| t.span())
        .unwrap_or_else(Span::call_site);
    let last = iter.last().map(|t| t.span());
    last.and_then(|l| first.join(l)).unwrap_or(first)
}

fn state_place(expr: &Expr) -> Option<StatePlace> {
    match expr {
        Expr::Path(p) if p.qself.is_none() => {
            let ident = p.path.get_ident()?;
            (ident != "self").then(|| StatePlace::Param(ident.clone()))
        }
        Expr::Field(_) => {
            let mut fields = Vec::new();
            let mut cur = expr;
            loop {
                match cur {
                    Expr::Field(f) => {
                        fields.push(f.member.clone());
                        cur = &f.base;
                    }
                    Expr::Path(p) if p.path.is_ident("self") => break,
                    _ => return None,
                }
            }
            fields.reverse();
            Some(StatePlace::SelfField {
                expr: Box::new(expr.clone()),
                fields,
            })
        }
        Expr::MethodCall(_)
        | Expr::Call(_)
        | Expr::Macro(_)
        | Expr::Try(_)
        | Expr::Index(_)
        | Expr::Unary(syn::ExprUnary {
            op: syn::UnOp::Deref(_),
            ..
        }) => Some(StatePlace::Guard(Box::new(expr.clone()))),
        Expr::Paren(p) => state_place(&p.expr),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn parse(tokens: TokenStream) -> (Args, Errors) {
        let mut errors = Errors::default();
        let args = Args::parse(tokens, &mut errors);
        (args, errors)
    }

    #[test]
    fn parses_field_param_and_name() {
        let (a, e) = parse(quote!(state = self.io.read, name = ReadState));
        assert!(e.is_empty());
        match a.state.unwrap().value {
            StatePlace::SelfField { fields, .. } => assert_eq!(fields.len(), 2),
            _ => panic!("expected a field"),
        }
        assert_eq!(a.name.unwrap().value, "ReadState");
        let (a, e) = parse(quote!(state = st));
        assert!(e.is_empty());
        assert!(matches!(a.state.unwrap().value, StatePlace::Param(p) if p == "st"));
        for guard in [
            quote!(state = self.st.lock().unwrap()),
            quote!(state = self.st.borrow_mut()),
            quote!(state = (self.st.write())),
            quote!(state = STATE.lock().unwrap()),
        ] {
            let (a, e) = parse(guard.clone());
            assert!(e.is_empty(), "{guard}");
            assert!(
                matches!(a.state.unwrap().value, StatePlace::Guard(_)),
                "{guard}"
            );
        }
    }

    #[test]
    fn rejects_duplicates_unknown_and_bad_places() {
        for bad in [
            quote!(state = a, state = b),
            quote!(name = A, name = B),
            quote!(colour = red),
            quote!(state = self),
            quote!(state = 0),
            quote!(state = "st"),
            quote!(name = a::b),
            quote!(state),
        ] {
            let (_, e) = parse(bad.clone());
            assert!(e.finish().is_err(), "accepted {bad}");
        }
    }
}
