//! Bad input never panics: mutated library scenarios either load or are refused with a
//! located message, and rendering never fails on odd spans (multi-byte text included).

use proptest::prelude::*;

fn library_text() -> impl Strategy<Value = &'static str> {
    (0..scenarios::library::LIBRARY.len()).prop_map(|i| scenarios::library::LIBRARY[i].source)
}

/// Cuts `text` at a character boundary at or before `at`.
fn floor_boundary(text: &str, at: usize) -> usize {
    let mut i = at.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn mutated_library_files_never_panic(
        text in library_text(),
        cut in 0usize..4000,
        len in 0usize..40,
        insert in "[a-z0-9=\"\\[\\]{}., \nµé-]{0,12}",
    ) {
        let start = floor_boundary(text, cut);
        let end = floor_boundary(text, start + len);
        let mutated = format!("{}{}{}", &text[..start], insert, &text[end..]);
        match scenarios::load_str("m.toml", &mutated) {
            Ok(loaded) => {
                let _ = loaded.render_warnings();
            }
            Err(scenarios::LoadError::Invalid { rendered, diagnostics }) => {
                prop_assert!(rendered.starts_with("m.toml"), "{}", rendered);
                prop_assert!(diagnostics.iter().any(scenarios::diag::Diagnostic::is_error));
            }
            Err(other) => prop_assert!(false, "unexpected error kind: {}", other),
        }
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,300}") {
        let _ = scenarios::load_str("a.toml", &text);
    }
}
