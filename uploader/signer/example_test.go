package signer_test

import (
	"context"
	"encoding/json"
	"errors"
	"log"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/staticmedia/staticmedia/uploader/signer"
)

// An application's upload endpoint: it checks its user first, then signs a form for the file
// the browser describes and hands it over; the browser posts the file to S3 and the
// application records form.Key as pending until `uploader verify` confirms it.
func Example() {
	ctx := context.Background()
	// The identity should only put objects under the prefix: staticmedia_upload_user or
	// staticmedia_upload_role with key_prefix = "incoming/".
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("eu-west-1"))
	if err != nil {
		log.Fatal(err)
	}
	s, err := signer.New(s3.NewFromConfig(cfg), signer.Config{Bucket: "media-example", KeyPrefix: "incoming/", MaxBytes: 5 << 20})
	if err != nil {
		log.Fatal(err)
	}
	http.HandleFunc("POST /uploads", func(w http.ResponseWriter, r *http.Request) {
		// ... the application's own authentication and authorization here ...
		var req struct {
			ContentType string `json:"content_type"`
			Size        int64  `json:"size"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&req); err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		form, err := s.Sign(r.Context(), signer.Request{ContentType: req.ContentType, Size: req.Size})
		var refused *signer.RefusedError
		switch {
		case errors.As(err, &refused):
			http.Error(w, refused.Error(), http.StatusBadRequest)
			return
		case err != nil:
			log.Printf("signing: %v", err)
			http.Error(w, "cannot sign", http.StatusInternalServerError)
			return
		}
		// Record form.Key as a pending upload of this user here.
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(form)
	})
}
