//! The file device (native only): an image file on the host.

use super::{check_access, BlockDevice, DeviceError, Result};
use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::Path;

/// An image file accessed with positioned reads and writes.
pub struct FileDevice {
    file: File,
    size: u64,
    read_only: bool,
}

fn io(e: std::io::Error) -> DeviceError {
    DeviceError::Io(e.to_string())
}

impl FileDevice {
    /// Open an existing image. Its size is rounded down to a whole granule.
    pub fn open(path: &Path, read_only: bool) -> Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .write(!read_only)
            .open(path)
            .map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        Ok(FileDevice {
            file,
            size: len - len % super::GRANULE as u64,
            read_only,
        })
    }

    /// Create (or truncate) an image file of `size` bytes (sparse).
    pub fn create(path: &Path, size: u64) -> Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .map_err(io)?;
        let size = size - size % super::GRANULE as u64;
        file.set_len(size).map_err(io)?;
        Ok(FileDevice {
            file,
            size,
            read_only: false,
        })
    }
}

impl BlockDevice for FileDevice {
    fn size(&self) -> u64 {
        self.size
    }
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<()> {
        check_access(offset, buf.len(), self.size)?;
        self.file.read_exact_at(buf, offset).map_err(io)
    }
    fn write_at(&mut self, offset: u64, buf: &[u8]) -> Result<()> {
        if self.read_only {
            return Err(DeviceError::ReadOnly);
        }
        check_access(offset, buf.len(), self.size)?;
        self.file.write_all_at(buf, offset).map_err(io)
    }
    fn flush(&mut self) -> Result<()> {
        if self.read_only {
            return Ok(());
        }
        self.file.sync_data().map_err(io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_write_reopen_read() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("img");
        let mut d = FileDevice::create(&p, 8192).unwrap();
        d.write_at(1024, &[5u8; 1024]).unwrap();
        d.flush().unwrap();
        drop(d);
        let mut d = FileDevice::open(&p, true).unwrap();
        assert_eq!(d.size(), 8192);
        let mut b = [0u8; 2048];
        d.read_at(0, &mut b).unwrap();
        assert_eq!(b[0], 0);
        assert_eq!(b[1024], 5);
        assert_eq!(d.write_at(0, &[0u8; 1024]), Err(DeviceError::ReadOnly));
        assert!(d.read_at(8192, &mut [0u8; 1024]).is_err());
    }
}
