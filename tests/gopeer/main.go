// gopeer: a small benchmark driver around containerd's own content/local
// store, used as a performance peer for a Python re-implementation of the
// same on-disk layout (DIR/blobs/<alg>/<hex>, DIR/ingest/<hash(ref)>/...).
//
// Every operation prints exactly one machine-readable line of key=value
// pairs on stdout, e.g.
//
//	op=walk count=100000 bytes=51200000 seconds=0.812
//
// Subcommands:
//
//	populate DIR N SIZE   create N blobs of SIZE random bytes via Writer/Commit
//	walk DIR [REPEAT]     store.Walk, counting blobs and summing sizes
//	ingest DIR FILE       Writer + io.CopyBuffer(1 MiB) + Commit(expected digest)
//	pending DIR N SIZE    leave N open (uncommitted) ingests of SIZE bytes
//	statuses DIR          ListStatuses
//	read DIR DIGEST       ReaderAt over the whole blob, sha256 of it
//	dump DIR              one line per blob and per ingest, timestamps in ns
//	resume DIR REF FILE [DIGEST]
//	                      reopen ingest REF, append FILE from the ingest's offset, commit
//	check DIR             JSON lines: every blob (Walk + Info + read back and re-hash) and
//	                      every ingest (ListStatuses + Status), timestamps in ns; for
//	                      comparing another implementation's view of the same directory
//	version               Go toolchain version and GOARCH
package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strconv"
	"time"

	"github.com/containerd/containerd/content"
	"github.com/containerd/containerd/content/local"
	"github.com/opencontainers/go-digest"
	// The content API's ReaderAt and WithDescriptor take an OCI descriptor,
	// so the OCI type package is needed to call them at all.
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

const bufSize = 1 << 20 // 1 MiB copy buffer

// readerOnly hides any WriterTo/ReaderFrom so io.CopyBuffer really uses our
// 1 MiB buffer (newer Go gives *os.File a WriteTo that would use 32 KiB).
type readerOnly struct{ io.Reader }

func usage() {
	fmt.Fprintf(os.Stderr, `usage:
  gopeer populate DIR N SIZE
  gopeer walk DIR [REPEAT]
  gopeer ingest DIR FILE [EXPECTED_DIGEST]
  gopeer pending DIR N SIZE
  gopeer statuses DIR
  gopeer read DIR DIGEST
  gopeer dump DIR
  gopeer resume DIR REF FILE [EXPECTED_DIGEST]
  gopeer check DIR
  gopeer version
`)
	os.Exit(2)
}

func die(op string, err error) {
	fmt.Fprintf(os.Stderr, "gopeer %s: %v\n", op, err)
	os.Exit(1)
}

func atoi(op, s string) int64 {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		die(op, fmt.Errorf("bad number %q", s))
	}
	return v
}

func secs(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 6, 64) }

func mbps(n int64, d time.Duration) string {
	if d <= 0 {
		return "inf"
	}
	return strconv.FormatFloat(float64(n)/1e6/d.Seconds(), 'f', 1, 64)
}

func openStore(op, dir string) content.Store {
	cs, err := local.NewStore(dir)
	if err != nil {
		die(op, err)
	}
	return cs
}

func populate(dir string, n, size int64) {
	ctx := context.Background()
	cs := openStore("populate", dir)
	buf := make([]byte, size)
	pid := os.Getpid()
	start := time.Now()
	for i := int64(0); i < n; i++ {
		if _, err := rand.Read(buf); err != nil {
			die("populate", err)
		}
		ref := fmt.Sprintf("gopeer-populate-%d-%d-%d", pid, start.UnixNano(), i)
		w, err := cs.Writer(ctx, content.WithRef(ref))
		if err != nil {
			die("populate", err)
		}
		if _, err := w.Write(buf); err != nil {
			w.Close()
			die("populate", err)
		}
		// expected digest computed independently of the writer, as a
		// client holding a descriptor would.
		if err := w.Commit(ctx, size, digest.FromBytes(buf)); err != nil {
			w.Close()
			die("populate", err)
		}
		w.Close()
	}
	el := time.Since(start)
	perSec := "inf"
	if el > 0 {
		perSec = strconv.FormatFloat(float64(n)/el.Seconds(), 'f', 1, 64)
	}
	fmt.Printf("op=populate count=%d size=%d bytes=%d seconds=%s blobs_per_s=%s\n",
		n, size, n*size, secs(el), perSec)
}

func walk(dir string, repeat int64) {
	ctx := context.Background()
	cs := openStore("walk", dir)
	for r := int64(1); r <= repeat; r++ {
		var count, total int64
		start := time.Now()
		err := cs.Walk(ctx, func(info content.Info) error {
			count++
			total += info.Size
			return nil
		})
		el := time.Since(start)
		if err != nil {
			die("walk", err)
		}
		fmt.Printf("op=walk run=%d count=%d bytes=%d seconds=%s\n", r, count, total, secs(el))
	}
}

func sha256File(path string) (digest.Digest, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.CopyBuffer(h, readerOnly{f}, make([]byte, bufSize)); err != nil {
		return "", err
	}
	return digest.NewDigestFromEncoded(digest.SHA256, hex.EncodeToString(h.Sum(nil))), nil
}

// ingest: the expected digest is computed by a separate, untimed pass over
// FILE (reported as prehash_seconds) unless given on the command line; the
// timed part is Writer + io.CopyBuffer(1 MiB) + Commit(size, expected).
func ingest(dir, file string, expected digest.Digest) {
	ctx := context.Background()
	cs := openStore("ingest", dir)
	var pre time.Duration
	if expected == "" {
		t0 := time.Now()
		d, err := sha256File(file)
		if err != nil {
			die("ingest", err)
		}
		pre = time.Since(t0)
		expected = d
	} else if err := expected.Validate(); err != nil {
		die("ingest", err)
	}
	f, err := os.Open(file)
	if err != nil {
		die("ingest", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		die("ingest", err)
	}
	ref := fmt.Sprintf("gopeer-ingest-%d-%d", os.Getpid(), time.Now().UnixNano())

	start := time.Now()
	w, err := cs.Writer(ctx, content.WithRef(ref))
	if err != nil {
		die("ingest", err)
	}
	n, err := io.CopyBuffer(w, readerOnly{f}, make([]byte, bufSize))
	if err != nil {
		w.Close()
		die("ingest", err)
	}
	if err := w.Commit(ctx, fi.Size(), expected); err != nil {
		w.Close()
		cs.Abort(ctx, ref)
		die("ingest", err)
	}
	w.Close()
	el := time.Since(start)
	fmt.Printf("op=ingest bytes=%d seconds=%s mbps=%s digest=%s prehash_seconds=%s\n",
		n, secs(el), mbps(n, el), expected, secs(pre))
}

// pending leaves N in-progress ingests (Writer, Write, Close without Commit)
// so that ListStatuses has something to list.
func pending(dir string, n, size int64) {
	ctx := context.Background()
	cs := openStore("pending", dir)
	buf := make([]byte, size)
	pid := os.Getpid()
	start := time.Now()
	for i := int64(0); i < n; i++ {
		if _, err := rand.Read(buf); err != nil {
			die("pending", err)
		}
		ref := fmt.Sprintf("gopeer-pending-%d-%d-%d", pid, start.UnixNano(), i)
		w, err := cs.Writer(ctx, content.WithRef(ref))
		if err != nil {
			die("pending", err)
		}
		if _, err := w.Write(buf); err != nil {
			w.Close()
			die("pending", err)
		}
		if err := w.Close(); err != nil {
			die("pending", err)
		}
	}
	el := time.Since(start)
	fmt.Printf("op=pending count=%d size=%d seconds=%s\n", n, size, secs(el))
}

func statuses(dir string) {
	ctx := context.Background()
	cs := openStore("statuses", dir)
	start := time.Now()
	st, err := cs.ListStatuses(ctx)
	el := time.Since(start)
	if err != nil {
		die("statuses", err)
	}
	fmt.Printf("op=statuses count=%d seconds=%s\n", len(st), secs(el))
}

func read(dir string, dg digest.Digest) {
	ctx := context.Background()
	if err := dg.Validate(); err != nil {
		die("read", err)
	}
	cs := openStore("read", dir)
	start := time.Now()
	ra, err := cs.ReaderAt(ctx, ocispec.Descriptor{Digest: dg})
	if err != nil {
		die("read", err)
	}
	size := ra.Size()
	h := sha256.New()
	// content.NewReader turns the ReaderAt into a sequential io.Reader
	// (ReadAt at increasing offsets), as containerd's own helpers do.
	n, err := io.CopyBuffer(h, readerOnly{content.NewReader(ra)}, make([]byte, bufSize))
	ra.Close()
	el := time.Since(start)
	if err != nil {
		die("read", err)
	}
	got := digest.NewDigestFromEncoded(digest.SHA256, hex.EncodeToString(h.Sum(nil)))
	fmt.Printf("op=read bytes=%d size=%d seconds=%s mbps=%s digest=%s ok=%t\n",
		n, size, secs(el), mbps(n, el), got, got == dg)
	if got != dg {
		os.Exit(1)
	}
}

// dump prints what containerd's own local store sees, for byte-level
// comparison with another implementation reading the same directory.
func dump(dir string) {
	ctx := context.Background()
	cs := openStore("dump", dir)
	err := cs.Walk(ctx, func(info content.Info) error {
		fmt.Printf("op=blob digest=%s size=%d created_ns=%d updated_ns=%d\n",
			info.Digest, info.Size, info.CreatedAt.UnixNano(), info.UpdatedAt.UnixNano())
		return nil
	})
	if err != nil {
		die("dump", err)
	}
	st, err := cs.ListStatuses(ctx)
	if err != nil {
		die("dump", err)
	}
	for _, s := range st {
		fmt.Printf("op=ingest ref=%s offset=%d total=%d started_ns=%d updated_ns=%d\n",
			strconv.Quote(s.Ref), s.Offset, s.Total, s.StartedAt.UnixNano(), s.UpdatedAt.UnixNano())
	}
}

// resume reopens an ingest that another program started, writes the rest of
// FILE from the ingest's current offset and commits with FILE's digest.
func resume(dir, ref, file string, expected digest.Digest) {
	ctx := context.Background()
	cs := openStore("resume", dir)
	var err error
	if expected == "" {
		if expected, err = sha256File(file); err != nil {
			die("resume", err)
		}
	} else if err := expected.Validate(); err != nil {
		die("resume", err)
	}
	f, err := os.Open(file)
	if err != nil {
		die("resume", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		die("resume", err)
	}
	w, err := cs.Writer(ctx, content.WithRef(ref),
		content.WithDescriptor(ocispec.Descriptor{Size: fi.Size()}))
	if err != nil {
		die("resume", err)
	}
	st, err := w.Status()
	if err != nil {
		die("resume", err)
	}
	if _, err := f.Seek(st.Offset, io.SeekStart); err != nil {
		die("resume", err)
	}
	if _, err := io.CopyBuffer(w, readerOnly{f}, make([]byte, bufSize)); err != nil {
		w.Close()
		die("resume", err)
	}
	if err := w.Commit(ctx, fi.Size(), expected); err != nil {
		w.Close()
		die("resume", err)
	}
	w.Close()
	fmt.Printf("op=resume ref=%s resumed_at=%d total=%d started_ns=%d size=%d digest=%s\n",
		strconv.Quote(ref), st.Offset, st.Total, st.StartedAt.UnixNano(), fi.Size(), expected)
}

type blobRecord struct {
	Op        string `json:"op"`
	Digest    string `json:"digest"`
	Size      int64  `json:"size"`
	CreatedNs int64  `json:"created_ns"`
	UpdatedNs int64  `json:"updated_ns"`
	InfoSize  int64  `json:"info_size"`
	ReadSize  int64  `json:"read_size"`
	ReadOK    bool   `json:"read_ok"`
}

type ingestRecord struct {
	Op        string `json:"op"`
	Ref       string `json:"ref"`
	Offset    int64  `json:"offset"`
	Total     int64  `json:"total"`
	StartedNs int64  `json:"started_ns"`
	UpdatedNs int64  `json:"updated_ns"`
	StatusOK  bool   `json:"status_ok"`
}

// check prints, as JSON lines, what containerd's local store reports for DIR:
// all blobs (Walk, then Info per digest, then a full read through ReaderAt
// re-hashed with the digest's algorithm) and all ingests (ListStatuses, then
// Status per ref). Timestamps are recorded before any read, because reading a
// blob may move its atime (UpdatedAt) on relatime mounts.
func check(dir string) {
	ctx := context.Background()
	cs := openStore("check", dir)
	var blobs []blobRecord
	err := cs.Walk(ctx, func(info content.Info) error {
		blobs = append(blobs, blobRecord{Op: "blob", Digest: info.Digest.String(), Size: info.Size,
			CreatedNs: info.CreatedAt.UnixNano(), UpdatedNs: info.UpdatedAt.UnixNano()})
		return nil
	})
	if err != nil {
		die("check walk", err)
	}
	for i := range blobs {
		b := &blobs[i]
		dg := digest.Digest(b.Digest)
		info, err := cs.Info(ctx, dg)
		if err != nil {
			die("check info", err)
		}
		b.InfoSize = info.Size
		ra, err := cs.ReaderAt(ctx, ocispec.Descriptor{Digest: dg})
		if err != nil {
			die("check read", err)
		}
		v := dg.Verifier()
		n, err := io.CopyBuffer(v, readerOnly{content.NewReader(ra)}, make([]byte, bufSize))
		ra.Close()
		if err != nil {
			die("check read", err)
		}
		b.ReadSize = n
		b.ReadOK = v.Verified() && n == ra.Size()
	}
	st, err := cs.ListStatuses(ctx)
	if err != nil {
		die("check statuses", err)
	}
	sort.Slice(st, func(i, j int) bool { return st[i].Ref < st[j].Ref })
	enc := json.NewEncoder(os.Stdout)
	for _, b := range blobs {
		if err := enc.Encode(b); err != nil {
			die("check", err)
		}
	}
	for _, s := range st {
		one, err := cs.Status(ctx, s.Ref)
		rec := ingestRecord{Op: "ingest", Ref: s.Ref, Offset: s.Offset, Total: s.Total,
			StartedNs: s.StartedAt.UnixNano(), UpdatedNs: s.UpdatedAt.UnixNano(),
			StatusOK: err == nil && one.Offset == s.Offset && one.Total == s.Total &&
				one.StartedAt.Equal(s.StartedAt) && one.Ref == s.Ref}
		if err := enc.Encode(rec); err != nil {
			die("check", err)
		}
	}
}

func main() {
	a := os.Args[1:]
	if len(a) < 1 {
		usage()
	}
	switch a[0] {
	case "populate":
		if len(a) != 4 {
			usage()
		}
		populate(a[1], atoi("populate", a[2]), atoi("populate", a[3]))
	case "walk":
		if len(a) != 2 && len(a) != 3 {
			usage()
		}
		rep := int64(1)
		if len(a) == 3 {
			rep = atoi("walk", a[2])
		}
		walk(a[1], rep)
	case "ingest":
		if len(a) != 3 && len(a) != 4 {
			usage()
		}
		var exp digest.Digest
		if len(a) == 4 {
			exp = digest.Digest(a[3])
		}
		ingest(a[1], a[2], exp)
	case "pending":
		if len(a) != 4 {
			usage()
		}
		pending(a[1], atoi("pending", a[2]), atoi("pending", a[3]))
	case "statuses":
		if len(a) != 2 {
			usage()
		}
		statuses(a[1])
	case "read":
		if len(a) != 3 {
			usage()
		}
		read(a[1], digest.Digest(a[2]))
	case "dump":
		if len(a) != 2 {
			usage()
		}
		dump(a[1])
	case "resume":
		if len(a) != 4 && len(a) != 5 {
			usage()
		}
		var exp digest.Digest
		if len(a) == 5 {
			exp = digest.Digest(a[4])
		}
		resume(a[1], a[2], a[3], exp)
	case "check":
		if len(a) != 2 {
			usage()
		}
		check(a[1])
	case "version":
		fmt.Printf("op=version go=%s goarch=%s goos=%s\n", runtime.Version(), runtime.GOARCH, runtime.GOOS)
	default:
		usage()
	}
}
