package provider

import (
	"strings"

	"github.com/staticmedia/staticmedia/internal/awsconfig"
)

// bucketAddresses are the names a bucket is reached by.
type bucketAddresses struct {
	arn                string
	regionalDomainName string
	publicBaseURL      string
	endpoint           string
}

// bucketAddressesFor derives a bucket's addresses. s3Endpoint is the endpoint override in effect, "" on AWS;
// with one, the public URL is path-style because local engines rarely resolve bucket subdomains.
func bucketAddressesFor(bucket, region, s3Endpoint string) bucketAddresses {
	partition := awsconfig.Partition(region)
	domain := bucket + ".s3." + region + "." + dnsSuffix(partition)
	a := bucketAddresses{
		arn:                "arn:" + partition + ":s3:::" + bucket,
		regionalDomainName: domain,
		publicBaseURL:      "https://" + domain + "/",
		endpoint:           s3Endpoint,
	}
	switch {
	case s3Endpoint != "":
		a.publicBaseURL = strings.TrimRight(s3Endpoint, "/") + "/" + bucket + "/"
	case strings.Contains(bucket, "."):
		// S3's wildcard certificate (*.s3.REGION.amazonaws.com) covers one label only, so a browser refuses
		// https://my.media.s3...; the path-style URL is served under S3's own name and works.
		a.publicBaseURL = "https://s3." + region + "." + dnsSuffix(partition) + "/" + bucket + "/"
	}
	return a
}

// dnsSuffix is the domain AWS serves a partition's endpoints under.
func dnsSuffix(partition string) string {
	switch partition {
	case "aws-cn":
		return "amazonaws.com.cn"
	case "aws-iso":
		return "c2s.ic.gov"
	case "aws-iso-b":
		return "sc2s.sgov.gov"
	case "aws-iso-e":
		return "cloud.adc-e.uk"
	case "aws-iso-f":
		return "csp.hci.ic.gov"
	default:
		return "amazonaws.com"
	}
}
