//! The native command-line tool: format, inspect and modify ext4 images
//! with the engine, and check them with the engine's fsck.
//!
//! Exit status: 0 success (fsck: clean), 1 an operation failed (fsck:
//! inconsistencies found), 2 the image cannot be read (fsck) or a usage
//! error. Nothing panics; 101 would be a bug.

#[cfg(not(target_arch = "wasm32"))]
mod cmd_disk;
#[cfg(not(target_arch = "wasm32"))]
mod cmd_explore;
#[cfg(not(target_arch = "wasm32"))]
mod cmd_history;
#[cfg(not(target_arch = "wasm32"))]
mod cmd_merge;
#[cfg(not(target_arch = "wasm32"))]
mod cmd_recover;

#[cfg(not(target_arch = "wasm32"))]
mod cli {
    use clap::{Parser, Subcommand};
    use ext4lab::device::FileDevice;
    use ext4lab::engine::fsck::fsck;
    use ext4lab::engine::inode::*;
    use ext4lab::engine::{mkfs, Ext4Error, Ext4Fs, MkfsOptions, OpenOptions};
    use std::io::{Read, Write};
    use std::path::{Path, PathBuf};

    /// `println!` that never panics (a closed stdout is not a crash).
    macro_rules! outln {
        ($($t:tt)*) => {{
            let _ = writeln!(std::io::stdout().lock(), $($t)*);
        }};
    }

    #[derive(Parser)]
    #[command(name = "ext4lab", version = ext4lab::VERSION, about = "ext4 images with ext4lab's engine")]
    struct Cli {
        #[command(subcommand)]
        cmd: Command,
    }

    /// Subcommands.
    #[derive(Subcommand)]
    enum Command {
        /// Format IMAGE (created or truncated to --size).
        Mkfs {
            image: PathBuf,
            /// Size with an optional K/M/G suffix, e.g. 64M.
            #[arg(long)]
            size: String,
            #[arg(long)]
            block_size: Option<u32>,
            #[arg(long)]
            inode_size: Option<u16>,
            /// Features: feat,^feat,...
            #[arg(short = 'O')]
            features: Option<String>,
        },
        /// List a directory (names one per line, no . and ..).
        Ls {
            image: PathBuf,
            path: String,
        },
        /// Write a file's bytes to stdout.
        Cat {
            image: PathBuf,
            path: String,
        },
        /// Replace (or create) a file with stdin.
        Write {
            image: PathBuf,
            path: String,
        },
        Mkdir {
            image: PathBuf,
            path: String,
        },
        Rm {
            image: PathBuf,
            path: String,
        },
        Rmdir {
            image: PathBuf,
            path: String,
        },
        Mv {
            image: PathBuf,
            from: String,
            to: String,
        },
        /// Hard link (or symlink with -s) PATH -> TARGET.
        Ln {
            #[arg(short = 's')]
            symbolic: bool,
            image: PathBuf,
            target: String,
            path: String,
        },
        /// Inode number, mode, size, flags, links and the mapping.
        Stat {
            image: PathBuf,
            path: String,
            #[arg(long)]
            json: bool,
        },
        /// Check the image: exit 0 clean, 1 inconsistencies, 2 unreadable.
        Fsck {
            image: PathBuf,
            #[arg(long)]
            json: bool,
        },
        /// List the built-in race scenarios and their variants.
        Scenarios {
            #[arg(long)]
            json: bool,
        },
        /// The modelled kernel changes (commits, proposals, hypotheticals)
        /// and which built-in variants run each.
        History {
            #[arg(long)]
            json: bool,
        },
        /// Explore a scenario's interleavings (built-in name or file path).
        Explore(Box<crate::cmd_explore::ExploreArgs>),
        /// Combine the `explore --shard I/N --json` results of every shard
        /// of one exploration into one result.
        Merge {
            /// The shard results (one JSON document per file).
            #[arg(required = true)]
            files: Vec<String>,
            #[arg(long)]
            json: bool,
        },
        /// Replay a crashed image's journal in place (what mount does).
        Recover {
            image: String,
            #[arg(long)]
            json: bool,
        },
        /// Replay a share link (or its fragment).
        Replay(crate::cmd_explore::ReplayArgs),
    }

    fn parse_size(s: &str) -> Result<u64, Ext4Error> {
        let s = s.trim();
        let (num, mul) = match s.char_indices().last() {
            Some((i, c)) if c.is_ascii_alphabetic() => {
                let m = match c.to_ascii_uppercase() {
                    'K' => 1u64 << 10,
                    'M' => 1 << 20,
                    'G' => 1 << 30,
                    'T' => 1 << 40,
                    _ => return Err(Ext4Error::Invalid(format!("size suffix in {s:?}"))),
                };
                (&s[..i], m)
            }
            _ => (s, 1),
        };
        num.parse::<u64>()
            .ok()
            .and_then(|n| n.checked_mul(mul))
            .ok_or_else(|| Ext4Error::Invalid(format!("size {s:?}")))
    }

    fn open(image: &Path, write: bool) -> Result<Ext4Fs<FileDevice>, Ext4Error> {
        let dev = FileDevice::open(image, !write)?;
        Ext4Fs::open(
            dev,
            OpenOptions {
                read_only: !write,
                ..Default::default()
            },
        )
    }

    fn mode_string(mode: u16) -> String {
        let t = match mode & S_IFMT {
            S_IFDIR => 'd',
            S_IFLNK => 'l',
            S_IFCHR => 'c',
            S_IFBLK => 'b',
            S_IFIFO => 'p',
            S_IFSOCK => 's',
            _ => '-',
        };
        let mut s = String::from(t);
        for (i, c) in "rwxrwxrwx".chars().enumerate() {
            s.push(if mode & (0o400 >> i) != 0 { c } else { '-' });
        }
        s
    }

    const FLAG_NAMES: &[(u32, &str)] = &[
        (EXT4_SECRM_FL, "secrm"),
        (EXT4_SYNC_FL, "sync"),
        (EXT4_IMMUTABLE_FL, "immutable"),
        (EXT4_APPEND_FL, "append"),
        (EXT4_NOATIME_FL, "noatime"),
        (EXT4_INDEX_FL, "index"),
        (EXT4_JOURNAL_DATA_FL, "journal_data"),
        (EXT4_HUGE_FILE_FL, "huge_file"),
        (EXT4_EXTENTS_FL, "extents"),
        (EXT4_EA_INODE_FL, "ea_inode"),
        (EXT4_INLINE_DATA_FL, "inline_data"),
    ];

    #[derive(serde::Serialize)]
    struct StatOut {
        ino: u32,
        mode: String,
        mode_octal: String,
        size: u64,
        flags: String,
        flag_names: Vec<&'static str>,
        links: u16,
        blocks_512: u64,
        mapping: &'static str,
        extents: Vec<ext4lab::engine::map::Extent>,
        tree_blocks: Vec<u64>,
        inline_size: Option<usize>,
        xattr_block: u64,
    }

    fn stat(image: &Path, path: &str, json: bool) -> Result<(), Ext4Error> {
        let mut fs = open(image, false)?;
        let ino = fs.lookup(path)?;
        let inode = fs.ext4_iget(ino)?;
        let mut out = StatOut {
            ino,
            mode: mode_string(inode.i_mode),
            mode_octal: format!("{:o}", inode.i_mode),
            size: inode.size(),
            flags: format!("{:#x}", inode.i_flags),
            flag_names: FLAG_NAMES
                .iter()
                .filter(|(f, _)| inode.i_flags & f != 0)
                .map(|(_, n)| *n)
                .collect(),
            links: inode.i_links_count,
            blocks_512: inode.blocks_512(&fs.sb),
            mapping: "none",
            extents: Vec::new(),
            tree_blocks: Vec::new(),
            inline_size: None,
            xattr_block: inode.file_acl_sb(&fs.sb),
        };
        let fast_symlink = inode.is_symlink()
            && !inode.has_flag(EXT4_EXTENTS_FL | EXT4_INLINE_DATA_FL)
            && inode.i_blocks_lo == 0;
        if inode.has_flag(EXT4_INLINE_DATA_FL) {
            out.mapping = "inline";
            out.inline_size = Some(fs.read_inline_data(ino)?.len());
        } else if fast_symlink {
            out.mapping = "fast_symlink";
        } else if inode.is_reg() || inode.is_dir() || inode.is_symlink() {
            out.mapping = if inode.has_flag(EXT4_EXTENTS_FL) {
                "extents"
            } else {
                "block_map"
            };
            let own = fs.walk_mapping(ino, &inode)?;
            out.extents = own.data;
            out.tree_blocks = own.metadata;
        }
        if json {
            outln!(
                "{}",
                serde_json::to_string_pretty(&out)
                    .map_err(|e| Ext4Error::Invalid(e.to_string()))?
            );
            return Ok(());
        }
        outln!(
            "Inode: {}  Mode: {} ({})  Links: {}",
            out.ino,
            out.mode,
            out.mode_octal,
            out.links
        );
        outln!(
            "Size: {}  Blocks(512): {}  Flags: {} [{}]",
            out.size,
            out.blocks_512,
            out.flags,
            out.flag_names.join(",")
        );
        match out.mapping {
            "inline" => outln!("Inline data: {} bytes", out.inline_size.unwrap_or(0)),
            "fast_symlink" => outln!("Fast symlink"),
            "none" => {}
            m => {
                outln!("{}:", if m == "extents" { "EXTENTS" } else { "BLOCKS" });
                for e in &out.extents {
                    let last = (e.ee_block as u64 + e.ee_len as u64).saturating_sub(1);
                    let u = if e.unwritten { " [unwritten]" } else { "" };
                    outln!(
                        "  ({}-{}): {}-{}{}",
                        e.ee_block,
                        last,
                        e.pblk,
                        (e.pblk + e.ee_len as u64).saturating_sub(1),
                        u
                    );
                }
                if !out.tree_blocks.is_empty() {
                    outln!("  tree blocks: {:?}", out.tree_blocks);
                }
            }
        }
        if out.xattr_block != 0 {
            outln!("File ACL: {}", out.xattr_block);
        }
        Ok(())
    }

    fn run(cmd: Command) -> Result<i32, Ext4Error> {
        match cmd {
            Command::Mkfs {
                image,
                size,
                block_size,
                inode_size,
                features,
            } => {
                let bytes = parse_size(&size)?;
                let mut o = MkfsOptions {
                    block_size,
                    assume_zeroed: true,
                    ..Default::default()
                };
                if let Some(i) = inode_size {
                    o.inode_size = i;
                }
                if let Some(f) = features {
                    o.apply_features(&f)?;
                }
                let dev = FileDevice::create(&image, bytes)?;
                let mut fs = mkfs(dev, &o)?;
                fs.sync()?;
            }
            Command::Ls { image, path } => {
                let mut fs = open(&image, false)?;
                let ino = fs.lookup(&path)?;
                let mut out = std::io::stdout().lock();
                for e in fs.dir_entries(ino)? {
                    if e.entry.name != b"." && e.entry.name != b".." {
                        out.write_all(&e.entry.name)
                            .and_then(|_| out.write_all(b"\n"))
                            .map_err(io)?;
                    }
                }
            }
            Command::Cat { image, path } => {
                let mut fs = open(&image, false)?;
                let ino = fs.lookup(&path)?;
                // Streamed in 1 MiB pieces: a (corrupt) huge i_size costs no memory.
                let mut out = std::io::stdout().lock();
                let mut buf = vec![0u8; 1 << 20];
                let mut off = 0u64;
                loop {
                    let n = fs.read(ino, off, &mut buf)?;
                    if n == 0 {
                        break;
                    }
                    out.write_all(&buf[..n]).map_err(io)?;
                    off += n as u64;
                }
            }
            Command::Write { image, path } => {
                let mut data = Vec::new();
                std::io::stdin().lock().read_to_end(&mut data).map_err(io)?;
                let mut fs = open(&image, true)?;
                let ino = match fs.lookup(&path) {
                    Ok(ino) => {
                        fs.truncate(ino, 0)?;
                        ino
                    }
                    Err(Ext4Error::NotFound(_)) => fs.create(&path, 0o644)?,
                    Err(e) => return Err(e),
                };
                fs.write(ino, 0, &data)?;
                fs.sync()?;
            }
            Command::Mkdir { image, path } => {
                modify(&image, |fs| fs.mkdir(&path, 0o755).map(|_| ()))?
            }
            Command::Rm { image, path } => modify(&image, |fs| fs.unlink(&path))?,
            Command::Rmdir { image, path } => modify(&image, |fs| fs.rmdir(&path))?,
            Command::Mv { image, from, to } => modify(&image, |fs| fs.rename(&from, &to))?,
            Command::Ln {
                symbolic,
                image,
                target,
                path,
            } => modify(&image, |fs| {
                if symbolic {
                    fs.symlink(&target, &path).map(|_| ())
                } else {
                    fs.link(&target, &path)
                }
            })?,
            Command::Stat { image, path, json } => stat(&image, &path, json)?,
            Command::Scenarios { json } => return Ok(crate::cmd_explore::cmd_scenarios(json)),
            Command::Explore(args) => return Ok(crate::cmd_explore::cmd_explore(*args)),
            Command::Merge { files, json } => return Ok(crate::cmd_merge::cmd_merge(&files, json)),
            Command::History { json } => return Ok(crate::cmd_history::cmd_history(json)),
            Command::Recover { image, json } => {
                return Ok(crate::cmd_recover::cmd_recover(&image, json))
            }
            Command::Replay(args) => return Ok(crate::cmd_explore::cmd_replay(args)),
            Command::Fsck { image, json } => {
                let dev = match FileDevice::open(&image, true) {
                    Ok(d) => d,
                    Err(e) => return fsck_unreadable(e.into()),
                };
                let report = match fsck(dev) {
                    Ok(r) => r,
                    Err(e) => return fsck_unreadable(e),
                };
                if json {
                    let mut v = serde_json::to_value(&report)
                        .map_err(|e| Ext4Error::Invalid(e.to_string()))?;
                    v["clean"] = serde_json::Value::Bool(report.is_clean());
                    // Each finding with e2fsck's problem code and -n verdict.
                    if let Some(list) = v["findings"].as_array_mut() {
                        for (j, f) in list.iter_mut().zip(&report.findings) {
                            j["problem"] = f.problem().into();
                            j["error"] = f.is_error().into();
                        }
                    }
                    outln!(
                        "{}",
                        serde_json::to_string_pretty(&v)
                            .map_err(|e| Ext4Error::Invalid(e.to_string()))?
                    );
                } else {
                    for f in &report.findings {
                        let tag = if f.is_error() { "error" } else { "note" };
                        outln!("{tag}: {} {f:?}", f.problem());
                    }
                    outln!(
                        "{}: {} inodes, {} blocks used; {}",
                        image.display(),
                        report.inodes_used,
                        report.blocks_used,
                        if report.is_clean() {
                            "clean"
                        } else {
                            "INCONSISTENT"
                        }
                    );
                }
                return Ok(if report.is_clean() { 0 } else { 1 });
            }
        }
        Ok(0)
    }

    fn fsck_unreadable(e: Ext4Error) -> Result<i32, Ext4Error> {
        eprintln!("ext4lab: cannot read the image: {e} [{e:?}]");
        Ok(2)
    }

    fn io(e: std::io::Error) -> Ext4Error {
        Ext4Error::Device(ext4lab::device::DeviceError::Io(e.to_string()))
    }

    fn modify(
        image: &Path,
        f: impl FnOnce(&mut Ext4Fs<FileDevice>) -> Result<(), Ext4Error>,
    ) -> Result<(), Ext4Error> {
        let mut fs = open(image, true)?;
        f(&mut fs)?;
        fs.sync()
    }

    pub fn main() -> i32 {
        let cli = Cli::parse();
        match run(cli.cmd) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("ext4lab: {e} [{e:?}]");
                1
            }
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    // Rust ignores SIGPIPE, so `ext4lab explore --json | head` would make
    // println! panic on the closed pipe; a command-line tool ends quietly
    // there, as cat and grep do.
    // SAFETY: restoring the default disposition of one signal before any
    // thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    std::process::exit(cli::main());
}

#[cfg(target_arch = "wasm32")]
fn main() {}
