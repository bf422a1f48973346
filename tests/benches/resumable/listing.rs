//! Every state enum of a shape with its variants and their fields: the
//! hand-written enums as written, the generated ones from the expansion of
//! the shape's source by the transform itself (`io_model_transform`), so
//! the listing is always the code that runs.

use quote::ToTokens;

use crate::shapes::Shape;

/// A type as Rust writes it, without the paths the expansion spells out.
fn tidy(ty: &syn::Type) -> String {
    let s: String = ty
        .to_token_stream()
        .to_string()
        .chars()
        .filter(|c| *c != ' ')
        .collect();
    s.replace(';', "; ")
        .replace(',', ", ")
        .replace("::io_model::", "")
        .replace("::core::option::", "")
}

fn variants(e: &syn::ItemEnum) -> String {
    let parts: Vec<String> = e
        .variants
        .iter()
        .map(|v| {
            let fields: Vec<String> = v
                .fields
                .iter()
                .map(|f| match &f.ident {
                    Some(name) => format!("{name}: {}", tidy(&f.ty)),
                    None => tidy(&f.ty),
                })
                .collect();
            if fields.is_empty() {
                format!("`{}`", v.ident)
            } else {
                format!("`{} {{ {} }}`", v.ident, fields.join(", "))
            }
        })
        .collect();
    parts.join(", ")
}

/// Whether `attr` is `#[io_model::resumable..]`; its arguments if so.
fn resumable_args(attr: &syn::Attribute) -> Option<proc_macro2::TokenStream> {
    let path = attr.path();
    let is = path.segments.len() == 2
        && path.segments[0].ident == "io_model"
        && path.segments[1].ident == "resumable";
    if !is {
        return None;
    }
    Some(match &attr.meta {
        syn::Meta::List(l) => l.tokens.clone(),
        _ => proc_macro2::TokenStream::new(),
    })
}

/// The generated enums of every `#[io_model::resumable]` item in `file`.
fn generated(file: &syn::File) -> Result<Vec<syn::ItemEnum>, String> {
    let mut out = Vec::new();
    for item in &file.items {
        let (attrs, strip): (&[syn::Attribute], syn::Item) = match item {
            syn::Item::Fn(f) => {
                let mut f = f.clone();
                f.attrs.retain(|a| resumable_args(a).is_none());
                (&item_attrs(item)[..], syn::Item::Fn(f))
            }
            syn::Item::Impl(i) => {
                let mut i = i.clone();
                i.attrs.retain(|a| resumable_args(a).is_none());
                (&item_attrs(item)[..], syn::Item::Impl(i))
            }
            _ => continue,
        };
        let Some(args) = attrs.iter().find_map(resumable_args) else {
            continue;
        };
        let expanded = io_model_transform::expand(args, strip.into_token_stream())
            .map_err(|e| format!("the transform refused the shape: {e}"))?;
        let expanded: syn::File =
            syn::parse2(expanded).map_err(|e| format!("the expansion does not parse: {e}"))?;
        out.extend(expanded.items.into_iter().filter_map(|i| match i {
            syn::Item::Enum(e) => Some(e),
            _ => None,
        }));
    }
    Ok(out)
}

fn item_attrs(item: &syn::Item) -> &Vec<syn::Attribute> {
    match item {
        syn::Item::Fn(f) => &f.attrs,
        syn::Item::Impl(i) => &i.attrs,
        _ => unreachable!("only functions and impl blocks are expanded"),
    }
}

/// Markdown: the shape's enums, hand-written then generated, with sizes.
pub fn listing(shape: &Shape) -> String {
    let sizes = (shape.sizes)();
    let size = |name: &str| {
        sizes
            .each
            .iter()
            .find(|(n, _)| *n == name)
            .map_or_else(|| "?".to_owned(), |(_, z)| z.to_string())
    };
    let mut out = format!("- **{}** ({})\n", shape.name, shape.what);
    let file: syn::File = match syn::parse_file(shape.source) {
        Ok(f) => f,
        Err(e) => return format!("{out}  - the source does not parse: {e}\n"),
    };
    for item in &file.items {
        if let syn::Item::Enum(e) = item {
            if shape.hand_enums.iter().any(|n| e.ident == n) {
                out += &format!(
                    "  - hand-written `{}` ({} bytes): {}\n",
                    e.ident,
                    size(&e.ident.to_string()),
                    variants(e)
                );
            }
        }
    }
    match generated(&file) {
        Ok(enums) => {
            for e in enums {
                out += &format!(
                    "  - `#[resumable]` `{}` ({} bytes): {}\n",
                    e.ident,
                    size(&e.ident.to_string()),
                    variants(&e)
                );
            }
        }
        Err(e) => out += &format!("  - {e}\n"),
    }
    out
}
