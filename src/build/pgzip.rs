//! Gzip on every core, with the same bytes whatever their number: the initrd is most of a
//! build's time, and one deflate stream uses one core.
//!
//! The input is cut at fixed 1 MiB offsets; each chunk is deflated on its own and, but for the
//! last, ended with a sync flush (an empty stored block) so that it ends on a byte boundary and
//! the chunks join into one deflate stream, as pigz's independent blocks do. Chunk boundaries
//! depend only on the input's length, never on how it was written or how many threads ran, so
//! the output is reproducible. The header is flate2's GzBuilder's: no name, mtime 0.

use std::io::{self, Write};

use flate2::{Compress, Compression, Crc, FlushCompress, Status};
use rayon::prelude::*;

/// The bytes each chunk holds.
const CHUNK: usize = 1 << 20;
/// Chunks deflated at once: the writer holds about this many MiB of input and as much output,
/// whatever the input's size.
const BATCH: usize = 16;

pub struct Writer<W: Write> {
    inner: W,
    level: u32,
    pending: Vec<u8>,
    crc: Crc,
    header_written: bool,
}

impl<W: Write> Writer<W> {
    pub fn new(inner: W, level: u32) -> Self {
        Writer {
            inner,
            level,
            pending: Vec::with_capacity(CHUNK * BATCH),
            crc: Crc::new(),
            header_written: false,
        }
    }

    /// Deflates what is left, writes the trailer, and returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.deflate_pending(true)?;
        self.inner.write_all(&self.crc.sum().to_le_bytes())?;
        self.inner.write_all(&self.crc.amount().to_le_bytes())?;
        Ok(self.inner)
    }

    /// Deflates the whole chunks held (all of them when `last`) and writes them out.
    fn deflate_pending(&mut self, last: bool) -> io::Result<()> {
        if !self.header_written {
            // ID1 ID2, deflate, no flags, mtime 0, XFL 0 (neither the fastest nor the best
            // level), OS unknown: what GzBuilder writes at level 6.
            self.inner.write_all(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff])?;
            self.header_written = true;
        }
        let whole = if last {
            self.pending.len()
        } else {
            self.pending.len() / CHUNK * CHUNK
        };
        let chunks: Vec<&[u8]> = self.pending[..whole].chunks(CHUNK).collect();
        let count = chunks.len();
        let level = self.level;
        let deflated: Vec<io::Result<Vec<u8>>> = chunks
            .par_iter()
            .enumerate()
            .map(|(i, chunk)| deflate(chunk, level, last && i + 1 == count))
            .collect();
        for chunk in deflated {
            self.inner.write_all(&chunk?)?;
        }
        if last && count == 0 {
            // An empty input still needs its final block.
            self.inner.write_all(&deflate(&[], level, true)?)?;
        }
        self.pending.drain(..whole);
        Ok(())
    }
}

impl<W: Write> Write for Writer<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.crc.update(buf);
        self.pending.extend_from_slice(buf);
        if self.pending.len() >= CHUNK * BATCH {
            self.deflate_pending(false)?;
        }
        Ok(buf.len())
    }

    /// Whole chunks only: a flush must not move the chunk boundaries, or the bytes would
    /// depend on when it was called.
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// One chunk as raw deflate: ended by a sync flush, or by the final block when `last`.
fn deflate(chunk: &[u8], level: u32, last: bool) -> io::Result<Vec<u8>> {
    let mut compress = Compress::new(Compression::new(level), false);
    let flush = if last {
        FlushCompress::Finish
    } else {
        FlushCompress::Sync
    };
    let mut out = Vec::with_capacity(chunk.len() / 2 + 4096);
    loop {
        let consumed = compress.total_in() as usize;
        let status = compress
            .compress_vec(&chunk[consumed..], &mut out, flush)
            .map_err(io::Error::other)?;
        let done = match status {
            Status::StreamEnd => true,
            // A sync flush is complete once all input is in and the output was not cut short.
            Status::Ok | Status::BufError => {
                !last && compress.total_in() as usize == chunk.len() && out.len() < out.capacity()
            }
        };
        if done {
            return Ok(out);
        }
        if out.len() == out.capacity() {
            out.reserve(out.capacity().max(4096));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn gzip(input: &[u8], write_size: usize) -> Vec<u8> {
        let mut w = Writer::new(Vec::new(), 6);
        for piece in input.chunks(write_size.max(1)) {
            w.write_all(piece).unwrap();
        }
        w.finish().unwrap()
    }

    /// Something compressible and not trivially so, past several chunks and batches' edges.
    fn input(len: usize) -> Vec<u8> {
        let mut state = 0x2545_f491_u32;
        (0..len)
            .map(|i| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                if i % 7 == 0 {
                    (state % 26) as u8 + b'a'
                } else {
                    b"sealkit "[i % 8]
                }
            })
            .collect()
    }

    #[test]
    fn gunzip_gives_the_input_back_and_the_bytes_do_not_depend_on_the_writes() {
        for len in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, CHUNK * BATCH + 3 * CHUNK + 17] {
            let data = input(len);
            let one = gzip(&data, 8192);
            assert_eq!(one, gzip(&data, 1 << 20), "{len}");
            assert_eq!(one, gzip(&data, 333), "{len}");
            let mut back = Vec::new();
            flate2::read::GzDecoder::new(&one[..]).read_to_end(&mut back).unwrap();
            assert_eq!(back, data, "{len}");
            // gzip itself, which no one here wrote, reads it too.
            if len == CHUNK * BATCH + 3 * CHUNK + 17 {
                let mut child = std::process::Command::new("gzip")
                    .args(["-d", "-c"])
                    .stdin(std::process::Stdio::piped())
                    .stdout(std::process::Stdio::piped())
                    .spawn()
                    .unwrap();
                let mut stdin = child.stdin.take().unwrap();
                let bytes = one.clone();
                let feeder = std::thread::spawn(move || stdin.write_all(&bytes));
                let out = child.wait_with_output().unwrap();
                feeder.join().unwrap().unwrap();
                assert!(out.status.success());
                assert_eq!(out.stdout, data);
            }
        }
    }

    #[test]
    fn the_bytes_do_not_depend_on_the_thread_count() {
        let data = input(5 * CHUNK + 99);
        let one_thread = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap()
            .install(|| gzip(&data, 65536));
        let four = rayon::ThreadPoolBuilder::new()
            .num_threads(4)
            .build()
            .unwrap()
            .install(|| gzip(&data, 65536));
        assert_eq!(one_thread, four);
    }
}
