//! Exact integer maths for pro-rata splits: `mul_div_floor` in 256 bits, so it is exact for any `u128`.

use ethnum::U256;

/// `a × b / c` computed in 256 bits: returns the floored quotient and the remainder, or `None` when `c == 0`
/// or the quotient does not fit in 128 bits. This is what keeps pro-rata splits exact for any `u128` input.
pub fn mul_div_floor(a: u128, b: u128, c: u128) -> Option<(u128, u128)> {
    if c == 0 {
        return None;
    }
    if let Some(p) = a.checked_mul(b) {
        return Some((p / c, p % c));
    }
    let p = U256::from(a) * U256::from(b);
    let c = U256::from(c);
    let q = p / c;
    let r = p % c;
    Some((u128::try_from(q).ok()?, r.as_u128()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_products_are_exact() {
        assert_eq!(mul_div_floor(u128::MAX, u128::MAX, u128::MAX), Some((u128::MAX, 0)));
        assert_eq!(mul_div_floor(u128::MAX, 3, 4), Some((u128::MAX / 4 * 3 + 2, 1)));
        assert_eq!(mul_div_floor(u128::MAX, 2, 1), None);
        assert_eq!(mul_div_floor(1, 1, 0), None);
        assert_eq!(mul_div_floor(7, 5, 3), Some((11, 2)));
    }
}
