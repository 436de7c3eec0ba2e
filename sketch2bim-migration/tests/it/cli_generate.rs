//! `generate`: the next migration's file, written and registered in
//! `lib.rs`, numbered from the files on disk.

use test_support::cli::{WorkDir, run};

use crate::migrations;

const BIN: &str = env!("CARGO_BIN_EXE_sketch2bim-migration");

#[test]
fn generate_writes_the_next_migration_and_registers_it() {
    let dir = WorkDir::new();
    let src = dir.path().join("src");
    std::fs::create_dir_all(&src).expect("mkdir");
    let lib = include_str!("../../src/lib.rs");
    std::fs::write(src.join("lib.rs"), lib).expect("write lib.rs");
    let crate_dir = dir.path().to_string_lossy().into_owned();

    let generated = run(
        BIN,
        dir.path(),
        &[],
        &["generate", "add_notes_to_jobs", "--dir", &crate_dir],
    )
    .ok();
    let m = migrations();
    let next = m.next_name("add_notes_to_jobs");
    let file = src.join(format!("{next}.rs"));
    assert_eq!(generated.stdout, format!("created {}\n", file.display()));
    let body = std::fs::read_to_string(&file).expect("the new migration");
    assert!(body.contains("impl MigrationTrait for Migration"));
    let registered = std::fs::read_to_string(src.join("lib.rs")).expect("lib.rs");
    assert_eq!(
        registered,
        lib.replace(
            &format!("    {},\n", m.head()),
            &format!("    {},\n    {next},\n", m.head())
        )
    );

    let refused = run(
        BIN,
        dir.path(),
        &[],
        &["generate", "Add Notes", "--dir", &crate_dir],
    );
    assert_eq!(refused.code, 1);
    assert_eq!(
        refused.stderr_lines(),
        vec![
            "error: invalid migration name 'Add Notes': use snake_case words (lowercase \
             letters and digits, starting with a letter, joined by single underscores), e.g. \
             add_notes_to_jobs"
        ]
    );
}

#[test]
fn generate_numbers_from_the_files_on_disk_and_takes_a_numbered_name() {
    let dir = WorkDir::new();
    let src = dir.path().join("src");
    std::fs::create_dir_all(&src).expect("mkdir");
    let lib = include_str!("../../src/lib.rs");
    std::fs::write(src.join("lib.rs"), lib).expect("write lib.rs");
    let crate_dir = dir.path().to_string_lossy().into_owned();
    let generate = |name: &str| {
        run(
            BIN,
            dir.path(),
            &[],
            &["generate", name, "--dir", &crate_dir],
        )
    };

    // The numbers after the newest migration lib.rs lists.
    let head = migrations().head();
    let n = migrations().next_number();
    let numbered = |k: u32, suffix: &str| format!("m{:03}_{suffix}", n + k);

    // Two runs of one binary: the second counts the file the first wrote.
    let first = generate("add_notes_to_jobs").ok();
    let notes = numbered(0, "add_notes_to_jobs");
    let file = src.join(format!("{notes}.rs"));
    assert_eq!(first.stdout, format!("created {}\n", file.display()));
    let second = generate("add_tags_to_jobs").ok();
    let tags = numbered(1, "add_tags_to_jobs");
    let file = src.join(format!("{tags}.rs"));
    assert_eq!(second.stdout, format!("created {}\n", file.display()));

    // A file on disk that lib.rs does not list yet counts too.
    std::fs::write(src.join(format!("{}.rs", numbered(2, "hand_written"))), "")
        .expect("write the hand-written migration");
    // The number the user typed is taken when it is the next one...
    let x = numbered(3, "add_x");
    let typed = generate(&x).ok();
    let file = src.join(format!("{x}.rs"));
    assert_eq!(typed.stdout, format!("created {}\n", file.display()));
    assert!(!src.join(format!("m{:03}_{x}.rs", n + 3)).exists());
    let registered = std::fs::read_to_string(src.join("lib.rs")).expect("lib.rs");
    assert_eq!(
        registered,
        lib.replace(
            &format!("    {head},\n"),
            &format!("    {head},\n    {notes},\n    {tags},\n    {x},\n")
        )
    );

    // ...and refused when it is not, writing nothing.
    let before = dir_listing(&src);
    let stale = numbered(0, "add_y");
    let refused = generate(&stale);
    assert_eq!(refused.code, 1);
    assert_eq!(
        refused.stderr_lines(),
        vec![format!(
            "error: migration name '{stale}' carries the number {n}, but the next migration \
             in {} is m{:03}: give the name without its mNNN_ prefix",
            src.display(),
            n + 4
        )]
    );
    assert_eq!(dir_listing(&src), before);
    assert_eq!(
        std::fs::read_to_string(src.join("lib.rs")).expect("lib.rs"),
        registered
    );
}

fn dir_listing(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}
