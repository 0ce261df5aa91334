// Command uploader migrates local media files to the S3 bucket made by the staticmedia Terraform
// provider and flags each file's database record once S3 confirmed the upload.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/staticmedia/staticmedia/uploader/internal/cli"
)

// version is set at build time: -ldflags "-X main.version=...".
var version = "dev"

func main() {
	// The first SIGINT/SIGTERM cancels ctx: the run stops taking files, lets in-flight uploads
	// finish, writes the flags earned and exits. stop restores the default handling, so a second
	// signal kills the process at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	stopProfiling := startProfiling()
	code := cli.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, version)
	stopProfiling()
	stop()
	os.Exit(code)
}
