//! Names of simulated objects and tasks, kept as parts and joined only
//! when something shows them (a trace, an outcome, a warning).
//!
//! Every execution creates its objects again (an inode's locks, a page's
//! lock, a bio's completion), and most executions of an exploration are
//! never shown, so formatting each name at creation was paid for nothing:
//! about 3.5% of an unbounded S5 exploration natively (`perf`, the
//! `format!` calls under `Ext4InodeInfo::new`, `AddressSpace::add_page` and
//! `submit_bio`). The parts are static strings, numbers and an owner's
//! `Rc<str>`, which an inode's and its pages' names share, so creating
//! one of them allocates nothing.

use std::borrow::Cow;
use std::fmt;
use std::rc::Rc;

/// The name of an object or task (`Display` joins the parts).
#[derive(Clone, Debug)]
pub enum ObjName {
    /// The whole name.
    Text(Cow<'static, str>),
    /// owner + `" "` + field: `"f i_data_sem"`.
    Field(Rc<str>, &'static str),
    /// `prefix` + owner + `suffix`: `"EXT4_I(f)->i_flags"`.
    Of(&'static str, Rc<str>, &'static str),
    /// `prefix` + number: `"block 120"`.
    Numbered(&'static str, u64),
    /// owner + `mid` + index + `suffix`: `"f page 3"`, `"f page 3 data"`.
    Indexed(Rc<str>, &'static str, u64, &'static str),
    /// A bio (`sync::bio`): `"bio 4 write block 120"`, `"bio 4 read
    /// blocks 120-123"`, or with `done` its completion, `"bio 4 done"`.
    Bio {
        bio: u32,
        write: bool,
        block: u64,
        blocks: u32,
        done: bool,
    },
}

impl ObjName {
    /// The name as one string (borrowed when it is one already).
    pub fn to_cow(&self) -> Cow<'static, str> {
        match self {
            ObjName::Text(c) => c.clone(),
            other => Cow::Owned(other.to_string()),
        }
    }
}

impl fmt::Display for ObjName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ObjName::Text(c) => f.write_str(c),
            ObjName::Field(o, field) => write!(f, "{o} {field}"),
            ObjName::Of(p, o, s) => write!(f, "{p}{o}{s}"),
            ObjName::Numbered(p, n) => write!(f, "{p}{n}"),
            ObjName::Indexed(o, m, i, s) => write!(f, "{o}{m}{i}{s}"),
            ObjName::Bio {
                bio,
                write,
                block,
                blocks,
                done,
            } => {
                let rw = if *write { "write" } else { "read" };
                match (done, blocks) {
                    (true, _) => write!(f, "bio {bio} done"),
                    (false, 0 | 1) => write!(f, "bio {bio} {rw} block {block}"),
                    (false, n) => write!(
                        f,
                        "bio {bio} {rw} blocks {block}-{}",
                        block + u64::from(*n) - 1
                    ),
                }
            }
        }
    }
}

impl Default for ObjName {
    fn default() -> Self {
        ObjName::Text(Cow::Borrowed(""))
    }
}

impl From<&'static str> for ObjName {
    fn from(s: &'static str) -> Self {
        ObjName::Text(Cow::Borrowed(s))
    }
}

impl From<String> for ObjName {
    fn from(s: String) -> Self {
        ObjName::Text(Cow::Owned(s))
    }
}

impl From<Cow<'static, str>> for ObjName {
    fn from(s: Cow<'static, str>) -> Self {
        ObjName::Text(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_as_they_were_formatted() {
        let f: Rc<str> = Rc::from("f");
        assert_eq!(
            ObjName::Field(f.clone(), "i_data_sem").to_string(),
            "f i_data_sem"
        );
        assert_eq!(
            ObjName::Of("EXT4_I(", f.clone(), ")->i_flags").to_string(),
            "EXT4_I(f)->i_flags"
        );
        assert_eq!(ObjName::Numbered("block ", 120).to_string(), "block 120");
        assert_eq!(
            ObjName::Indexed(f.clone(), " page ", 3, " data").to_string(),
            "f page 3 data"
        );
        let bio = |blocks, done| ObjName::Bio {
            bio: 4,
            write: blocks == 1,
            block: 120,
            blocks,
            done,
        };
        assert_eq!(bio(1, false).to_string(), "bio 4 write block 120");
        assert_eq!(bio(4, false).to_string(), "bio 4 read blocks 120-123");
        assert_eq!(bio(1, true).to_string(), "bio 4 done");
        assert_eq!(ObjName::Of("<", f.clone(), ">").to_cow(), "<f>");
        assert!(matches!(ObjName::from("x").to_cow(), Cow::Borrowed("x")));
    }
}
