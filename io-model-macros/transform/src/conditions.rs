//! Conditions over `#[cfg]` predicates, for locals that are live only in
//! some configurations: after `#[cfg(feature = "x")] return ..;`, a local
//! used only by the code that follows is dead where the feature is on and
//! live where it is off.
//!
//! The macro cannot evaluate a predicate (the compiler does, after it), so
//! a condition is kept as a formula: a disjunction of conjunctions of
//! literals, each literal the `#[cfg]`s of one statement, or their
//! negation. [`Predicates::attribute`] turns it into the `#[cfg(..)]` the
//! stored field carries, and the compiler decides.
//!
//! A shared leaf module: it knows nothing of the phases.

use proc_macro2::TokenStream;
use quote::quote;
use syn::Attribute;

/// The predicates of `#[cfg(..)]` attributes, one per attribute.
pub fn cfg_predicates(attrs: &[Attribute]) -> impl Iterator<Item = TokenStream> + '_ {
    attrs.iter().filter_map(|a| match &a.meta {
        syn::Meta::List(l) => Some(l.tokens.clone()),
        _ => None,
    })
}

/// `all(..)`: the predicate under which all of `attrs` hold.
pub fn all_cfg(attrs: &[Attribute]) -> TokenStream {
    let preds = cfg_predicates(attrs);
    quote!(all(#(#preds),*))
}

/// `#[cfg(not(all(..)))]`: the opposite of a statement's `#[cfg]`s.
pub fn not_cfg(attrs: &[Attribute]) -> Attribute {
    let all = all_cfg(attrs);
    syn::parse_quote!(#[cfg(not(#all))])
}

/// One statement's `#[cfg]`s (by their index in [`Predicates`]), holding
/// or not.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub struct Lit(u32);

impl Lit {
    fn group(self) -> usize {
        (self.0 >> 1) as usize
    }

    fn negated(self) -> bool {
        self.0 & 1 == 1
    }

    fn opposite(self) -> Lit {
        Lit(self.0 ^ 1)
    }
}

/// A conjunction: sorted, without repeats.
type Conj = Vec<Lit>;

/// Where something holds: always, or where one of the conjunctions does.
///
/// `When` is kept simplified: no conjunction is empty (that is `Always`),
/// contradictory, or implied by another.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Cond {
    Always,
    When(Box<Vec<Conj>>),
}

impl Cond {
    /// This condition and `lit`; `None` where it can never hold.
    pub fn and(&self, lit: Lit) -> Option<Cond> {
        let conjs: Vec<Conj> = match self {
            Cond::Always => vec![vec![lit]],
            Cond::When(cs) => cs
                .iter()
                .filter(|c| !c.contains(&lit.opposite()))
                .map(|c| {
                    let mut c = c.clone();
                    if let Err(i) = c.binary_search(&lit) {
                        c.insert(i, lit);
                    }
                    c
                })
                .collect(),
        };
        simplify(conjs)
    }

    /// This condition or `other`.
    pub fn or(&mut self, other: &Cond) {
        let merged = match (&*self, other) {
            (Cond::Always, _) => return,
            (_, Cond::Always) => Cond::Always,
            (Cond::When(a), Cond::When(b)) => {
                if b.iter().all(|c| implied(c, a)) {
                    return;
                }
                let all = a.iter().chain(b.iter()).cloned().collect();
                simplify(all).unwrap_or(Cond::Always)
            }
        };
        *self = merged;
    }

    /// Whether `other` holds wherever this does (read off the formulas: a
    /// conjunction of this one is implied by one of `other`'s).
    pub fn implies(&self, other: &Cond) -> bool {
        match (self, other) {
            (_, Cond::Always) => true,
            (Cond::Always, Cond::When(_)) => false,
            (Cond::When(a), Cond::When(b)) => a.iter().all(|c| implied(c, b)),
        }
    }
}

/// Whether `c` implies one of `of`: it contains all of that one's literals.
fn implied(c: &Conj, of: &[Conj]) -> bool {
    of.iter()
        .any(|o| o.iter().all(|l| c.binary_search(l).is_ok()))
}

/// Drops implied conjunctions and merges `a ∧ x` with `a ∧ ¬x` into `a`,
/// until nothing changes; `None` for an empty disjunction.
fn simplify(mut conjs: Vec<Conj>) -> Option<Cond> {
    loop {
        conjs.sort();
        conjs.dedup();
        if conjs.iter().any(|c| c.is_empty()) {
            return Some(Cond::Always);
        }
        // Absorption: a conjunction with all the literals of another adds
        // nothing to the disjunction.
        let keep: Vec<bool> = (0..conjs.len())
            .map(|i| {
                !conjs.iter().enumerate().any(|(j, o)| {
                    // Unique, so a subset is a smaller one.
                    j != i
                        && o.len() < conjs[i].len()
                        && o.iter().all(|l| conjs[i].binary_search(l).is_ok())
                })
            })
            .collect();
        let mut kept: Vec<Conj> = conjs
            .into_iter()
            .zip(keep)
            .filter_map(|(c, k)| k.then_some(c))
            .collect();
        // Resolution: two conjunctions that differ only in one literal's
        // sign are their common part.
        let mut merged = None;
        'find: for i in 0..kept.len() {
            for j in i + 1..kept.len() {
                if let Some(c) = resolve(&kept[i], &kept[j]) {
                    merged = Some((i, j, c));
                    break 'find;
                }
            }
        }
        match merged {
            Some((i, j, c)) => {
                kept.remove(j);
                kept[i] = c;
                conjs = kept;
            }
            None if kept.is_empty() => return None,
            None => return Some(Cond::When(Box::new(kept))),
        }
    }
}

/// `a` and `b` without the one literal they hold with opposite signs, if
/// they differ in nothing else.
fn resolve(a: &Conj, b: &Conj) -> Option<Conj> {
    if a.len() != b.len() {
        return None;
    }
    let mut differ = None;
    for (k, (x, y)) in a.iter().zip(b).enumerate() {
        if x == y {
            continue;
        }
        if differ.is_some() || x.group() != y.group() {
            return None;
        }
        differ = Some(k);
    }
    let k = differ?;
    let mut c = a.clone();
    c.remove(k);
    Some(c)
}

/// The statements' `#[cfg]`s a function's conditions refer to, each group
/// numbered once (two statements with the same `#[cfg]`s share a number).
#[derive(Default)]
pub struct Predicates {
    groups: Vec<(String, Vec<Attribute>)>,
}

impl Predicates {
    /// The literal "`attrs` all hold" (`holds`) or "not all of them hold".
    pub fn lit(&mut self, attrs: &[Attribute], holds: bool) -> Lit {
        let key = quote!(#(#attrs)*).to_string();
        let group = match self.groups.iter().position(|(k, _)| *k == key) {
            Some(g) => g,
            None => {
                self.groups.push((key, attrs.to_vec()));
                self.groups.len() - 1
            }
        };
        Lit(((group as u32) << 1) | u32::from(!holds))
    }

    /// No statement's `#[cfg]` was met.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// `#[cfg(..)]` for a condition; `None` for `Always`.
    pub fn attribute(&self, c: &Cond) -> Option<Attribute> {
        let Cond::When(conjs) = c else {
            return None;
        };
        let lit = |l: &Lit| {
            let all = all_cfg(&self.groups[l.group()].1);
            if l.negated() {
                quote!(not(#all))
            } else {
                all
            }
        };
        let conj = |c: &Conj| match c.as_slice() {
            [one] => lit(one),
            _ => {
                let lits = c.iter().map(lit);
                quote!(all(#(#lits),*))
            }
        };
        let pred = match conjs.as_slice() {
            [one] => conj(one),
            _ => {
                let conjs = conjs.iter().map(conj);
                quote!(any(#(#conjs),*))
            }
        };
        Some(syn::parse_quote!(#[cfg(#pred)]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(s: &str) -> Vec<Attribute> {
        let a: Attribute = syn::parse_str::<syn::ItemStruct>(&format!("#[cfg({s})] struct S;"))
            .unwrap()
            .attrs
            .remove(0);
        vec![a]
    }

    #[test]
    fn a_predicate_or_its_negation_is_always() {
        let mut p = Predicates::default();
        let f = p.lit(&attrs("feature = \"x\""), true);
        let nf = p.lit(&attrs("feature = \"x\""), false);
        let mut c = Cond::Always.and(f).unwrap();
        assert!(Cond::Always.and(f).unwrap().and(nf).is_none());
        assert_ne!(c, Cond::Always);
        c.or(&Cond::Always.and(nf).unwrap());
        assert_eq!(c, Cond::Always);
    }

    #[test]
    fn implied_conjunctions_are_absorbed_and_printed_once() {
        let mut p = Predicates::default();
        let a = p.lit(&attrs("unix"), true);
        let b = p.lit(&attrs("feature = \"y\""), false);
        let mut c = Cond::Always.and(a).unwrap().and(b).unwrap();
        let only_a = Cond::Always.and(a).unwrap();
        assert!(c.implies(&only_a));
        assert!(!only_a.implies(&c));
        c.or(&only_a);
        assert_eq!(c, only_a);
        let attr = p.attribute(&c).unwrap();
        assert_eq!(
            quote!(#attr).to_string(),
            quote!(#[cfg(all(unix))]).to_string()
        );
        assert!(p.attribute(&Cond::Always).is_none());
    }
}
