package corral

// Typed errors: the daemon sends a google.rpc.Status in grpc-status-details-bin. The helpers
// of this package return *Error, which works with status.Code / status.FromError (it has
// GRPCStatus) and with errors.As to *Error, whose fields are the typed details:
//
//	var e *corral.Error
//	if errors.As(err, &e) && e.Reason == "TASK_LOCKED" { ... e.PreconditionFailure ... }
//
// AsError does the same for the raw generated clients' errors (status errors).

import (
	"errors"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ErrorDomain is ErrorInfo.Domain of corral's errors.
const ErrorDomain = "corral.dev"

// Error is a failed call with the daemon's typed details (nil when not sent).
type Error struct {
	status *status.Status
	// Reason is ErrorInfo.Reason: a stable word (PROGRAM_NOT_FOUND, TASK_LOCKED, PROGRAM_FATAL...; the README lists them).
	Reason string
	// Metadata is ErrorInfo.Metadata (e.g. "program", "exit_code").
	Metadata            map[string]string
	ErrorInfo           *errdetails.ErrorInfo
	BadRequest          *errdetails.BadRequest
	PreconditionFailure *errdetails.PreconditionFailure
	ResourceInfo        *errdetails.ResourceInfo
	// ConnectionProblem names why the daemon could not be reached (Unavailable only:
	// SOCKET_MISSING, TLS_SERVER_NAME, ...; README "When a client cannot connect"), "" when the
	// client's probe found nothing wrong. The message is then that problem's, and
	// TransportDetails what grpc-go said.
	ConnectionProblem string
	TransportDetails  string
}

// AsError returns err as an *Error when it carries a gRPC status (a raw generated client's error
// included), nil otherwise. An *Error is returned as is.
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	var known *Error
	if errors.As(err, &known) {
		return known
	}
	st, ok := status.FromError(err)
	if !ok {
		return nil
	}
	return errorOf(st)
}

// ErrorFromStatus is the *Error of a google.rpc.Status carried in a message (ProgramResult.Status).
func ErrorFromStatus(st *status.Status) *Error { return errorOf(st) }

func errorOf(st *status.Status) *Error {
	e := &Error{status: st, Metadata: map[string]string{}}
	for _, detail := range st.Details() {
		switch d := detail.(type) {
		case *errdetails.ErrorInfo:
			e.ErrorInfo, e.Reason = d, d.GetReason()
			for k, v := range d.GetMetadata() {
				e.Metadata[k] = v
			}
		case *errdetails.BadRequest:
			e.BadRequest = d
		case *errdetails.PreconditionFailure:
			e.PreconditionFailure = d
		case *errdetails.ResourceInfo:
			e.ResourceInfo = d
		}
	}
	return e
}

// wrap turns a call's error into an *Error (nil stays nil; errors without a status stay as they are).
func wrap(err error) error {
	if err == nil {
		return nil
	}
	if e := AsError(err); e != nil {
		return e
	}
	return err
}

func (e *Error) Error() string { return e.status.Code().String() + ": " + e.status.Message() }

// Code is the gRPC status code.
func (e *Error) Code() codes.Code { return e.status.Code() }

// Message is the daemon's message (it names the field, value and rule for bad input).
func (e *Error) Message() string { return e.status.Message() }

// GRPCStatus makes status.Code(err) and status.FromError(err) work on an *Error.
func (e *Error) GRPCStatus() *status.Status { return e.status }

// IsReason reports whether err is a corral error with this ErrorInfo reason.
func IsReason(err error, reason string) bool {
	e := AsError(err)
	return e != nil && e.Reason == reason
}
