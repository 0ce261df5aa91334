package provider

import (
	"errors"
	"fmt"
)

// AWS error codes the provider tells apart, as smithy.APIError.ErrorCode() returns them. Match them with
// isAPIError; never compare error strings.
const (
	// S3 (and S3-compatible engines).
	errCodeAccessDenied                                   = "AccessDenied"
	errCodeBucketAlreadyExists                            = "BucketAlreadyExists"
	errCodeBucketAlreadyOwnedByYou                        = "BucketAlreadyOwnedByYou"
	errCodeBucketNotEmpty                                 = "BucketNotEmpty"
	errCodeInvalidArgument                                = "InvalidArgument"
	errCodeMalformedPolicy                                = "MalformedPolicy"
	errCodeMalformedXML                                   = "MalformedXML"
	errCodeNoSuchBucket                                   = "NoSuchBucket"
	errCodeNoSuchCORSConfiguration                        = "NoSuchCORSConfiguration"
	errCodeNoSuchBucketPolicy                             = "NoSuchBucketPolicy"
	errCodeNoSuchLifecycleConfiguration                   = "NoSuchLifecycleConfiguration"
	errCodeNoSuchPublicAccessBlockConfiguration           = "NoSuchPublicAccessBlockConfiguration"
	errCodeNoSuchTagSet                                   = "NoSuchTagSet"
	errCodeNoSuchTagSetError                              = "NoSuchTagSetError"
	errCodeNotImplemented                                 = "NotImplemented"
	errCodeOperationAborted                               = "OperationAborted"
	errCodeOwnershipControlsNotFoundError                 = "OwnershipControlsNotFoundError"
	errCodeServerSideEncryptionConfigurationNotFoundError = "ServerSideEncryptionConfigurationNotFoundError"
	errCodeXNotImplemented                                = "XNotImplemented"

	// IAM and STS.
	errCodeConcurrentModification      = "ConcurrentModification"
	errCodeDeleteConflict              = "DeleteConflict"
	errCodeEntityAlreadyExists         = "EntityAlreadyExists"
	errCodeInvalidClientTokenId        = "InvalidClientTokenId"
	errCodeLimitExceeded               = "LimitExceeded"
	errCodeNoSuchEntity                = "NoSuchEntity"
	errCodeSignatureDoesNotMatch       = "SignatureDoesNotMatch"
	errCodeUnrecognizedClientException = "UnrecognizedClientException"
)

// notFoundError is what a find function returns when the thing it looks for does not exist (as
// terraform-provider-aws's retry.NotFoundError): Read treats it as drift and removes the resource from state.
// It wraps the AWS error, so isAPIError still sees the code.
type notFoundError struct {
	what string
	err  error
}

func (e *notFoundError) Error() string {
	if e.err == nil {
		return e.what + " not found"
	}
	return fmt.Sprintf("%s not found: %v", e.what, e.err)
}

func (e *notFoundError) Unwrap() error { return e.err }

// notFound reports whether err is, or wraps, a notFoundError.
func notFound(err error) bool {
	var nf *notFoundError
	return errors.As(err, &nf)
}

// asNotFound turns an AWS answer that says the thing does not exist (isNotFound) into a notFoundError about what.
func asNotFound(err error, what string) error {
	if isNotFound(err) {
		return &notFoundError{what: what, err: err}
	}
	return err
}
