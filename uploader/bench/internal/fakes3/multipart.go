package fakes3

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// minPartSize is S3's lower bound for every part but the last.
const minPartSize = 5 << 20

// multipartUpload is what the server keeps of an upload in progress: no bytes, only the
// per-part digests CompleteMultipartUpload needs.
type multipartUpload struct {
	key          string
	checksumAlg  string // from x-amz-checksum-algorithm at create, lower-case; "" for none
	checksumType string // COMPOSITE or FULL_OBJECT
	parts        map[int]part
}

type part struct {
	size     int64
	md5      []byte
	checksum []byte // raw digest of the part, when the upload has an algorithm
}

func (s *Server) createMultipart(w http.ResponseWriter, r *http.Request, key string) error {
	up := &multipartUpload{key: key, parts: map[int]part{}}
	if alg := strings.ToLower(r.Header.Get("X-Amz-Checksum-Algorithm")); alg != "" {
		if checksumAlgorithms[alg] == nil {
			return badRequest("InvalidRequest", "unsupported x-amz-checksum-algorithm %q", alg)
		}
		up.checksumAlg = alg
		up.checksumType = "COMPOSITE"
		if t := r.Header.Get("X-Amz-Checksum-Type"); t != "" {
			up.checksumType = strings.ToUpper(t)
		}
		w.Header().Set("X-Amz-Checksum-Algorithm", strings.ToUpper(alg))
		w.Header().Set("X-Amz-Checksum-Type", up.checksumType)
	}
	id := requestID() + requestID()
	s.mu.Lock()
	s.uploads[id] = up
	s.mu.Unlock()

	type result struct {
		XMLName  xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ InitiateMultipartUploadResult"`
		Bucket   string
		Key      string
		UploadID string `xml:"UploadId"`
	}
	s.delay()
	return writeXML(w, http.StatusOK, result{Bucket: s.opts.Bucket, Key: key, UploadID: id})
}

func (s *Server) upload(id string) (*multipartUpload, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	up := s.uploads[id]
	if up == nil {
		return nil, &s3Error{status: http.StatusNotFound, code: "NoSuchUpload", message: "the specified multipart upload does not exist"}
	}
	return up, nil
}

func (s *Server) uploadPart(w http.ResponseWriter, r *http.Request, q url.Values) error {
	n, err := strconv.Atoi(q.Get("partNumber"))
	if err != nil || n < 1 || n > 10000 {
		return badRequest("InvalidArgument", "part number must be an integer between 1 and 10000")
	}
	up, err := s.upload(q.Get("uploadId"))
	if err != nil {
		return err
	}
	p, err := s.read(r)
	if err != nil {
		return err
	}
	pt := part{size: p.size, md5: p.md5}
	if p.checksumAlg != "" {
		w.Header().Set("X-Amz-Checksum-"+p.checksumAlg, p.checksum)
		if p.checksumAlg == up.checksumAlg {
			pt.checksum, _ = base64.StdEncoding.DecodeString(p.checksum)
		}
	}
	s.mu.Lock()
	up.parts[n] = pt
	s.mu.Unlock()
	s.parts.Add(1)
	w.Header().Set("ETag", `"`+hex.EncodeToString(p.md5)+`"`)
	s.delay()
	w.WriteHeader(http.StatusOK)
	return nil
}

// completeMultipart checks the part list like S3 (known parts, matching ETags, ascending order,
// 5 MiB minimum but for the last) and answers the multipart ETag, MD5-of-MD5s "-N", and the
// composite checksum when the upload has an algorithm.
func (s *Server) completeMultipart(w http.ResponseWriter, r *http.Request, key, id string) error {
	type reqPart struct {
		PartNumber int
		ETag       string
	}
	var req struct {
		Parts []reqPart `xml:"Part"`
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 10<<20))
	if err != nil {
		return badRequest("IncompleteBody", "reading the part list: %v", err)
	}
	if err := xml.Unmarshal(body, &req); err != nil || len(req.Parts) == 0 {
		return badRequest("MalformedXML", "the XML you provided was not well-formed or did not validate")
	}
	up, err := s.upload(id)
	if err != nil {
		return err
	}
	if up.key != key {
		return badRequest("InvalidRequest", "upload %s belongs to another key", id)
	}

	s.mu.Lock()
	parts := make([]part, 0, len(req.Parts))
	var perr error
	for i, rp := range req.Parts {
		pt, ok := up.parts[rp.PartNumber]
		switch {
		case i > 0 && rp.PartNumber <= req.Parts[i-1].PartNumber:
			perr = badRequest("InvalidPartOrder", "the list of parts was not in ascending order")
		case !ok || strings.Trim(rp.ETag, `"`) != hex.EncodeToString(pt.md5):
			perr = badRequest("InvalidPart", "part %d was not uploaded or its ETag does not match", rp.PartNumber)
		case i < len(req.Parts)-1 && pt.size < minPartSize:
			perr = badRequest("EntityTooSmall", "part %d is %d bytes; every part but the last must be at least 5 MiB", rp.PartNumber, pt.size)
		}
		if perr != nil {
			break
		}
		parts = append(parts, pt)
	}
	if perr == nil {
		delete(s.uploads, id)
	}
	s.mu.Unlock()
	if perr != nil {
		return perr
	}

	var size int64
	md5s := md5.New()
	var sums []byte
	for _, pt := range parts {
		size += pt.size
		md5s.Write(pt.md5)
		sums = append(sums, pt.checksum...)
	}
	s.store(key, size)

	type result struct {
		XMLName           xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ CompleteMultipartUploadResult"`
		Location          string
		Bucket            string
		Key               string
		ETag              string
		ChecksumCRC32     string `xml:",omitempty"`
		ChecksumCRC32C    string `xml:",omitempty"`
		ChecksumCRC64NVME string `xml:",omitempty"`
		ChecksumSHA1      string `xml:",omitempty"`
		ChecksumSHA256    string `xml:",omitempty"`
		ChecksumType      string `xml:",omitempty"`
	}
	res := result{
		Location: "/" + s.opts.Bucket + "/" + key,
		Bucket:   s.opts.Bucket,
		Key:      key,
		ETag:     fmt.Sprintf(`"%s-%d"`, hex.EncodeToString(md5s.Sum(nil)), len(parts)),
	}
	if up.checksumAlg != "" {
		var sum string
		if up.checksumType == "FULL_OBJECT" {
			// A full-object CRC is the client's to send on this request; combining part CRCs
			// is more than a benchmark endpoint needs, so it is echoed unverified.
			sum = r.Header.Get("X-Amz-Checksum-" + up.checksumAlg)
		} else {
			h := checksumAlgorithms[up.checksumAlg]()
			h.Write(sums)
			sum = fmt.Sprintf("%s-%d", base64.StdEncoding.EncodeToString(h.Sum(nil)), len(parts))
		}
		switch up.checksumAlg {
		case "crc32":
			res.ChecksumCRC32 = sum
		case "crc32c":
			res.ChecksumCRC32C = sum
		case "crc64nvme":
			res.ChecksumCRC64NVME = sum
		case "sha1":
			res.ChecksumSHA1 = sum
		case "sha256":
			res.ChecksumSHA256 = sum
		}
		res.ChecksumType = up.checksumType
	}
	s.delay()
	return writeXML(w, http.StatusOK, res)
}

func (s *Server) abortMultipart(w http.ResponseWriter, _ *http.Request, id string) error {
	s.mu.Lock()
	_, ok := s.uploads[id]
	delete(s.uploads, id)
	s.mu.Unlock()
	if !ok {
		return &s3Error{status: http.StatusNotFound, code: "NoSuchUpload", message: "the specified multipart upload does not exist"}
	}
	s.delay()
	w.WriteHeader(http.StatusNoContent)
	return nil
}
