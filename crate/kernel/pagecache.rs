//! The page cache of one inode (`struct address_space`): pages with
//! `PG_uptodate`/`PG_dirty` (the lock and `PG_writeback` are the sim's
//! [`Page`]), each with one buffer head (block size = page size in the model)
//! carrying `BH_Mapped`/`BH_New`/`BH_Delay`/`BH_Unwritten`.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use crate::sim::{Location, ObjName, Page, RwSemaphore};

/// `PAGE_SIZE`.
pub const PAGE_SIZE: u64 = 4096;

/// The buffer head of a page (`struct buffer_head` state bits).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BufferHead {
    /// `BH_Mapped` with `b_blocknr`.
    pub b_blocknr: Option<u64>,
    /// `BH_New`: allocated by this get_block call.
    pub new: bool,
    /// `BH_Delay`: delayed allocation reserved, no block yet.
    pub delay: bool,
    /// `BH_Unwritten`: mapped to an unwritten extent.
    pub unwritten: bool,
}

/// One page (folio) of the cache.
pub struct PageState {
    /// The sim page: `PG_locked` and `PG_writeback`.
    pub page: Page,
    /// Announces accesses to the page's bytes: every change of them
    /// writes it (they are made under the page lock), and a reader without
    /// the lock reads it (the commit copying a journalled data page,
    /// [`AddressSpace::page_block_contents`]).
    pub data_loc: Location,
    pub data: Vec<u8>,
    /// Provenance of each byte (an inode number, 0 = zeros).
    pub prov: Vec<u32>,
    /// `PG_uptodate`. Set it with [`AddressSpace::set_page_uptodate`].
    pub uptodate: bool,
    /// Announces changes of `PG_uptodate` and tests of it made without the
    /// page lock ([`AddressSpace::mapped_for_fault`]).
    pub uptodate_loc: Location,
    pub dirty: bool,
    /// Some process maps this page writable (cleared by `page_mkclean`).
    /// Change it with [`AddressSpace::set_pte_writable`].
    pub pte_writable: bool,
    /// Announces reads and changes of the page's PTE (`pte_writable`): the
    /// kernel changes a PTE under the page table's lock, `ptl`, which
    /// neither the page lock nor `i_mmap_rwsem` orders.
    pub pte_loc: Location,
    pub bh: BufferHead,
    /// The page's io_end got the writeback handle's reserved handle
    /// (`io_end->handle = handle->h_rsv_handle`, set by
    /// `mpage_map_one_extent`, taken by `ext4_bio_write_page`).
    pub io_end_rsv_handle: bool,
    /// References to the page's buffer taken with `get_bh` beyond the
    /// page's own (`bh->b_count`): a busy buffer makes
    /// `try_to_release_page` fail, so `invalidate_inode_pages2` keeps the
    /// page.
    pub b_count: u32,
    /// Oracle only (like `prov`): the block the page's data was read from.
    /// `ext4_mpage_readpages` reads a page without attaching buffers, so
    /// `bh` stays unmapped; a stale-data report names this block.
    pub read_blk: Option<u64>,
}

impl PageState {
    /// `SetPageUptodate`. Setting the bit writes `uptodate_loc`: the fault
    /// path tests it before it takes the page lock
    /// ([`AddressSpace::mapped_for_fault`]).
    pub fn set_uptodate(&mut self) {
        if !std::mem::replace(&mut self.uptodate, true) {
            self.uptodate_loc.note_write();
        }
    }

    /// Makes the page's PTE writable (`do_shared_fault` installing it after
    /// `->page_mkwrite`) or not (`page_mkclean` write-protecting it,
    /// `unmap_mapping_range` zapping it); a change writes `pte_loc`.
    pub fn set_pte_writable(&mut self, writable: bool) {
        if std::mem::replace(&mut self.pte_writable, writable) != writable {
            self.pte_loc.note_write();
        }
    }
}

/// `struct address_space` of one inode.
pub struct AddressSpace {
    /// Announces lookups/insertions/removals (`i_pages` xarray).
    pub i_pages_loc: Location,
    /// Announces changes and lookups of the `PAGECACHE_TAG_DIRTY` marks of
    /// `i_pages` ([`AddressSpace::set_page_dirty`]): a location of its own,
    /// since a page lookup reads the xarray's entries, not its marks.
    pub dirty_tag_loc: Location,
    pub pages: RefCell<BTreeMap<u64, PageState>>,
    /// DAX entries of `i_pages` (v4.13 fs/dax.c: exceptional radix-tree
    /// entries): page index -> the block a DAX PTE maps (`None`: the zero
    /// page of a hole). Under `i_pages_loc` like the pages.
    pub dax_entries: RefCell<BTreeMap<u64, Option<u64>>>,
    /// `mapping->i_mmap_rwsem` (`i_mmap_lock_write`/`_read`: the tree of
    /// VMAs mapping the file; `i_mmap_mutex` before v3.19).
    pub i_mmap_rwsem: RwSemaphore,
    /// Announces reads of `mapping->i_mmap` made without the lock
    /// (`mapping_mapped`) and its changes (made under `i_mmap_rwsem`).
    pub i_mmap_loc: Location,
    name: Rc<str>,
}

impl AddressSpace {
    /// An empty cache for file `name`; `i_mmap_class` is the lock class
    /// name of `i_mmap_rwsem` in the run's kernel. Create inside an
    /// execution.
    pub fn new(name: &Rc<str>, i_mmap_class: &'static str) -> AddressSpace {
        AddressSpace {
            i_pages_loc: Location::new(ObjName::Field(name.clone(), "i_pages")),
            dirty_tag_loc: Location::new(ObjName::Field(name.clone(), "PAGECACHE_TAG_DIRTY")),
            pages: RefCell::new(BTreeMap::new()),
            dax_entries: RefCell::new(BTreeMap::new()),
            i_mmap_rwsem: RwSemaphore::named(
                ObjName::Field(name.clone(), i_mmap_class),
                i_mmap_class,
            ),
            i_mmap_loc: Location::new(ObjName::Field(name.clone(), "i_mmap")),
            name: name.clone(),
        }
    }

    /// `find_get_page`: the page at `index`, if cached (its sim handle).
    /// Precondition: the caller announced `i_pages_loc.read()`.
    pub fn find_get_page(&self, index: u64) -> Option<Page> {
        self.pages.borrow().get(&index).map(|p| p.page)
    }

    /// `__page_cache_alloc` + `add_to_page_cache_lru`: a new, not uptodate
    /// page at `index` (or the existing one). Precondition: the caller
    /// announced `i_pages_loc.write()`.
    pub fn add_page(&self, index: u64) -> Page {
        let mut pages = self.pages.borrow_mut();
        if let Some(p) = pages.get(&index) {
            return p.page;
        }
        let page = Page::new(ObjName::Indexed(self.name.clone(), " page ", index, ""));
        pages.insert(
            index,
            PageState {
                page,
                data_loc: Location::new(ObjName::Indexed(
                    self.name.clone(),
                    " page ",
                    index,
                    " data",
                )),
                data: vec![0; PAGE_SIZE as usize],
                prov: vec![0; PAGE_SIZE as usize],
                uptodate: false,
                uptodate_loc: Location::new(ObjName::Indexed(
                    self.name.clone(),
                    " page ",
                    index,
                    " PG_uptodate",
                )),
                dirty: false,
                pte_writable: false,
                pte_loc: Location::new(ObjName::Indexed(
                    self.name.clone(),
                    " page ",
                    index,
                    " pte",
                )),
                bh: BufferHead::default(),
                io_end_rsv_handle: false,
                b_count: 0,
                read_blk: None,
            },
        );
        page
    }

    /// Run `f` on page `index` if cached.
    pub fn with_page<R>(&self, index: u64, f: impl FnOnce(&mut PageState) -> R) -> Option<R> {
        self.pages.borrow_mut().get_mut(&index).map(f)
    }

    /// Sets or clears `PG_dirty` of cached page `index`, with the
    /// `PAGECACHE_TAG_DIRTY` mark of `i_pages` that follows it:
    /// `__set_page_dirty` marks a page that was clean (v4.13
    /// fs/buffer.c, under `xa_lock`/`tree_lock`), and the start of its
    /// writeback (`__test_set_page_writeback`, mm/page-writeback.c)
    /// clears the mark of a page no longer dirty. A change of the mark is
    /// a write of the marks (`dirty_tag_loc`): writeback's tag lookup
    /// (`pagevec_lookup_range_tag`, [`AddressSpace::dirty_pages`]) reads
    /// them, so the two are ordered. Without it a lookup that missed a
    /// page dirtied concurrently looked, to the reduction, the same as one
    /// that found it, and only one of the two was explored (found by the
    /// step predictor, `sim::rt::clock::Hb::predict`, on S3, S4, S5 and
    /// S8).
    /// Simplification: the model keeps one flag for both, cleared where
    /// `clear_page_dirty_for_io` runs, which for the model's writeback is
    /// in the step that starts the page's writeback.
    pub fn set_page_dirty(&self, index: u64, dirty: bool) {
        let changed = self
            .with_page(index, |ps| std::mem::replace(&mut ps.dirty, dirty) != dirty)
            .unwrap_or(false);
        if changed {
            self.dirty_tag_loc.note_write();
        }
    }

    /// `SetPageUptodate` on cached page `index` ([`PageState::set_uptodate`]).
    pub fn set_page_uptodate(&self, index: u64) {
        self.with_page(index, PageState::set_uptodate);
    }

    /// Makes the PTE of cached page `index` writable or not
    /// ([`PageState::set_pte_writable`]).
    pub fn set_pte_writable(&self, index: u64, writable: bool) {
        self.with_page(index, |ps| ps.set_pte_writable(writable));
    }

    /// Whether cached page `index` has a writable PTE, read as an access of
    /// its `pte_loc` (the PTE may change under `ptl` while the caller holds
    /// only the page lock).
    pub fn pte_writable(&self, index: u64) -> bool {
        self.with_page(index, |ps| {
            ps.pte_loc.note_read();
            ps.pte_writable
        })
        .unwrap_or(false)
    }

    /// The test `handle_mm_fault` makes before it takes the page lock:
    /// page `index` with whether it is uptodate and, for a write, mapped
    /// writable. Reads both as accesses (`uptodate_loc`, `pte_loc`), since
    /// `PG_uptodate` is set under the page lock and the PTE changes under
    /// `ptl`, neither held here (v5.5 mm/filemap.c `filemap_map_pages`
    /// tests `PageUptodate` the same way before its `trylock_page`).
    /// Precondition: the caller announced `i_pages_loc.read()`.
    pub fn mapped_for_fault(&self, index: u64, write: bool) -> Option<(Page, bool)> {
        self.with_page(index, |ps| {
            ps.uptodate_loc.note_read();
            if write {
                ps.pte_loc.note_read();
            }
            (ps.page, ps.uptodate && (!write || ps.pte_writable))
        })
    }

    /// The dirty pages in `[first, last]` (`PAGECACHE_TAG_DIRTY`), each
    /// with its index: `pagevec_lookup_range_tag` takes a reference on
    /// each, so a caller locks the page it found even if it has left the
    /// cache since, and tests `page->mapping` under the lock
    /// ([`crate::kernel::fault::still_cached`]).
    /// Precondition: the caller announced a read of `i_pages_loc`.
    pub fn dirty_pages(&self, first: u64, last: u64) -> Vec<(u64, Page)> {
        self.dirty_tag_loc.note_read();
        self.pages
            .borrow()
            .range(first..=last)
            .filter(|(_, p)| p.dirty)
            .map(|(i, p)| (*i, p.page))
            .collect()
    }

    /// The block page `idx`'s buffer is mapped to, with the page's bytes and
    /// their provenance (what writeback or the journal takes from it);
    /// `None` for an uncached page or an unmapped buffer.
    pub fn page_block_contents(&self, idx: u64) -> Option<(u64, Vec<u8>, Vec<u32>)> {
        self.with_page(idx, |ps| {
            // the commit copies a journalled page without its lock
            // (`journalled_data_as_committed`)
            ps.data_loc.note_read();
            ps.bh
                .b_blocknr
                .map(|b| (b, ps.data.clone(), ps.prov.clone()))
        })
        .flatten()
    }

    /// `pagevec_lookup_range` / `find_get_entries`: the cached pages in
    /// `[first, last]` with their indexes. The lookup takes a reference on
    /// each, so a caller that sleeps between them (on one page's lock) goes
    /// on with the pages it found, and tests whether each is still cached
    /// once it holds its lock. Precondition: the caller announced a read
    /// of `i_pages_loc`.
    pub fn find_get_pages(&self, first: u64, last: u64) -> Vec<(u64, Page)> {
        self.pages
            .borrow()
            .range(first..=last)
            .map(|(i, p)| (*i, p.page))
            .collect()
    }

    /// Indexes of cached pages in `[first, last]`, for code that uses them
    /// in the step that read `i_pages_loc`.
    pub fn cached_pages(&self, first: u64, last: u64) -> Vec<u64> {
        self.pages
            .borrow()
            .range(first..=last)
            .map(|(i, _)| *i)
            .collect()
    }

    /// `delete_from_page_cache`.
    pub fn remove_page(&self, index: u64) {
        self.pages.borrow_mut().remove(&index);
    }
}
