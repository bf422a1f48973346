#[test]
#[ignore]
fn show() {
    let src = std::fs::read_to_string(std::env::var("SHOW_FILE").unwrap()).unwrap();
    let item: syn::ItemFn = syn::parse_str(&src).unwrap();
    let attr: proc_macro2::TokenStream = "state = st".parse().unwrap();
    let mut f = item.clone();
    f.attrs.clear();
    let out = io_model_transform::expand(attr, quote::quote!(#f)).unwrap();
    let file: syn::File = syn::parse2(out).unwrap();
    println!("{}", prettyplease::unparse(&file));
}
