package kafka

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// aclBinding is one ACL of a topic, as the target holds it.
type aclBinding struct {
	topic, principal, host string
	operation              kmsg.ACLOperation
}

// syncACLs copies the ACLs that allow access to each source topic (its own
// name, a LITERAL pattern) to its target topic, as MirrorMaker 2's
// sync.topic.acls does: WRITE is left out (only the mirror writes the
// copy) and ALL becomes READ, so that the copy's consumers can read it
// and nobody else can write it. It never removes an ACL. An origin
// without an authorizer (SECURITY_DISABLED) has none to copy. Task 0 does
// it, at each refresh; bindings already copied by this task are not sent
// again.
func (r *refresher) syncACLs(ctx context.Context, topics []string) error {
	if len(topics) == 0 {
		return nil
	}
	req := kmsg.NewPtrDescribeACLsRequest()
	req.ResourceType = kmsg.ACLResourceTypeTopic
	req.ResourcePatternType = kmsg.ACLResourcePatternTypeLiteral
	req.Operation = kmsg.ACLOperationAny
	req.PermissionType = kmsg.ACLPermissionTypeAllow
	resp, err := req.RequestWith(ctx, r.owned[0])
	if err == nil {
		err = kerr.ErrorForCode(resp.ErrorCode)
	}
	if errors.Is(err, kerr.SecurityDisabled) {
		return nil
	}
	if err != nil {
		return classify(fmt.Errorf("describing the ACLs of the source topics: %w", err))
	}
	mirrored := map[string]bool{}
	for _, t := range topics {
		mirrored[t] = true
	}
	var todo []aclBinding
	for _, res := range resp.Resources {
		if !mirrored[res.ResourceName] {
			continue
		}
		for _, a := range res.ACLs {
			op := a.Operation
			switch op {
			case kmsg.ACLOperationWrite:
				continue
			case kmsg.ACLOperationAll:
				op = kmsg.ACLOperationRead
			}
			b := aclBinding{r.targetName(res.ResourceName), a.Principal, a.Host, op}
			if !r.aclsCopied[b] && !slices.Contains(todo, b) {
				todo = append(todo, b)
			}
		}
	}
	if len(todo) == 0 {
		return nil
	}
	create := kmsg.NewPtrCreateACLsRequest()
	for _, b := range todo {
		c := kmsg.NewCreateACLsRequestCreation()
		c.ResourceType, c.ResourceName = kmsg.ACLResourceTypeTopic, b.topic
		c.ResourcePatternType = kmsg.ACLResourcePatternTypeLiteral
		c.Principal, c.Host = b.principal, b.host
		c.Operation, c.PermissionType = b.operation, kmsg.ACLPermissionTypeAllow
		create.Creations = append(create.Creations, c)
	}
	cresp, err := create.RequestWith(ctx, r.owned[1])
	if err != nil {
		return classify(fmt.Errorf("creating ACLs of the target topics: %w", err))
	}
	var errs []error
	for i, res := range cresp.Results {
		if i >= len(todo) {
			break
		}
		if err := kerr.ErrorForCode(res.ErrorCode); err != nil {
			errs = append(errs, classify(fmt.Errorf("copying the ACL %s %s on target topic %q: %w", todo[i].principal, todo[i].operation, todo[i].topic, err)))
			continue
		}
		r.aclsCopied[todo[i]] = true
	}
	return errors.Join(errs...)
}
