package corral_test

// Errors as Go users expect: status.Code works, errors.As reaches *corral.Error and the typed
// details; a start that ends FATAL fails; the TaskHandle keeps and releases its token.

import (
	"errors"
	"testing"
	"time"

	"github.com/corral-dev/corral/client/go"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestErrorsWorkWithStatusCodeAndErrorsAs(t *testing.T) {
	c, ctx := dial(t), ctxFor(t, 30*time.Second)
	_, err := c.Status(ctx, "nope")
	if status.Code(err) != codes.NotFound {
		t.Fatalf("status.Code = %v (%v); want NotFound", status.Code(err), err)
	}
	var cerr *corral.Error
	if !errors.As(err, &cerr) || cerr.Reason != "PROGRAM_NOT_FOUND" || cerr.Metadata["program"] != "nope" {
		t.Fatalf("errors.As *corral.Error: %#v", cerr)
	}
	if cerr.ErrorInfo.GetDomain() != corral.ErrorDomain || cerr.ResourceInfo.GetResourceName() != "nope" || cerr.ResourceInfo.GetResourceType() != "program" {
		t.Fatalf("the typed details: info %v, resource %v", cerr.ErrorInfo, cerr.ResourceInfo)
	}
}

func TestAStartThatEndsFatalFailsWithTheLastRun(t *testing.T) {
	c, ctx := dial(t), ctxFor(t, 30*time.Second)
	_, err := c.Start(ctx, "quick")
	if status.Code(err) != codes.FailedPrecondition || !corral.IsReason(err, "PROGRAM_FATAL") {
		t.Fatalf("Start(quick) = %v; want FailedPrecondition PROGRAM_FATAL", err)
	}
	var cerr *corral.Error
	var failure *errdetails.PreconditionFailure
	if errors.As(err, &cerr) {
		failure = cerr.PreconditionFailure
	}
	if failure.GetViolations()[0].GetSubject() != "program/quick" {
		t.Fatalf("PreconditionFailure: %v", failure)
	}
	if code := corral.AsError(err).Metadata["exit_code"]; code != "3" {
		t.Fatalf("exit_code = %q; want 3", code)
	}
	results, err := c.StartAll(ctx, []string{"quick"})
	if err != nil || len(results) != 1 || results[0].GetOk() {
		t.Fatalf("StartAll = %v, %v", results, err)
	}
	if e := corral.ErrorFromStatus(status.FromProto(results[0].GetStatus())); e.Reason != "PROGRAM_FATAL" {
		t.Fatalf("the result's status: %v", e)
	}
}

func TestBadInputCarriesABadRequest(t *testing.T) {
	c, ctx := dial(t), ctxFor(t, 30*time.Second)
	_, err := c.Start(ctx, "")
	bad := corral.AsError(err).BadRequest
	if status.Code(err) != codes.InvalidArgument || bad.GetFieldViolations()[0].GetField() != "name" {
		t.Fatalf("Start(\"\") = %v, details %v", err, bad)
	}
}

func TestTaskHandleKeepsAndReleasesItsLockToken(t *testing.T) {
	c, other, ctx := dial(t), dial(t), ctxFor(t, 30*time.Second)
	task, err := c.CreateTask(ctx, "go-handle", "example_counter", nil)
	if err != nil {
		t.Fatal(err)
	}
	if granted, err := task.Lock(ctx, 0, 0); err != nil || !granted || task.Token == "" {
		t.Fatalf("Lock = %v, %v (token %q)", granted, err, task.Token)
	}
	_, err = other.Task("go-handle").Start(ctx)
	if !corral.IsReason(err, "TASK_LOCKED") {
		t.Fatalf("another client's Start = %v; want TASK_LOCKED", err)
	}
	if _, err := task.Start(ctx); err != nil {
		t.Fatalf("the holder's Start: %v", err)
	}
	if _, err := task.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := task.Close(); err != nil || task.Token != "" {
		t.Fatalf("Close = %v, token %q", err, task.Token)
	}
	if _, err := other.Task("go-handle").Join(ctx, 10*time.Second); err != nil {
		t.Fatalf("after the unlock another client joins: %v", err)
	}
}
