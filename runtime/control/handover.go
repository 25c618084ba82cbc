package control

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// This file holds what an apply does around a commit when a pipeline
// moves to a new address, is replaced or is deleted: its operational
// target, its source offsets and its sink consumer group's offsets follow
// it, or go.

// SinkGroup names the consumer group of the fleet's sink pipeline at
// address (see SinkGroup).
func (c *Control) SinkGroup(address string) string { return SinkGroup(c.fleet, address) }

// ClearTarget removes a pipeline's operational target (pause, stop or
// resume), so that its HCL state attribute decides again.
func (c *Control) ClearTarget(ctx context.Context, pipeline string) error {
	return c.putStatus(ctx, pipeline, recordKey{V: FormatVersion, Kind: "target", Address: pipeline}, nil)
}

// CopyOffsets saves the source offsets of pipeline from under the address
// to, and reports how many source partitions it copied.
func (c *Control) CopyOffsets(ctx context.Context, from, to string) (int, error) {
	m, err := c.LoadOffsets(ctx, from)
	if err != nil {
		return 0, err
	}
	offs := make([]SourceOffset, 0, len(m))
	for _, o := range m {
		offs = append(offs, o)
	}
	return len(offs), c.SaveOffsets(ctx, to, offs)
}

// DeleteOffsets deletes every saved source offset of a pipeline, so that
// a pipeline at that address starts from the beginning.
func (c *Control) DeleteOffsets(ctx context.Context, pipeline string) error {
	m, err := c.LoadOffsets(ctx, pipeline)
	if err != nil {
		return err
	}
	offs := make([]SourceOffset, 0, len(m))
	for _, o := range m {
		offs = append(offs, SourceOffset{Partition: o.Partition})
	}
	return c.SaveOffsets(ctx, pipeline, offs)
}

// CopyGroupOffsets commits the committed offsets of consumer group from to
// group to, which must have no active member, and reports how many
// partitions it copied.
func (c *Control) CopyGroupOffsets(ctx context.Context, from, to string) (int, error) {
	offs, err := c.adm.FetchOffsets(ctx, from)
	if err == nil {
		err = offs.Error()
	}
	if errors.Is(err, kerr.GroupIDNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("control: read the offsets of group %s: %w", from, err)
	}
	set := offs.Offsets()
	n := 0
	set.Each(func(kadm.Offset) { n++ })
	if n == 0 {
		return 0, nil
	}
	resp, err := c.adm.CommitOffsets(ctx, to, set)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		return 0, fmt.Errorf("control: commit the offsets of group %s: %w", to, err)
	}
	return n, nil
}

// ErrGroupActive means a consumer group still has members, so it cannot be
// deleted yet.
var ErrGroupActive = errors.New("the consumer group still has members")

// DeleteGroup deletes a consumer group and its committed offsets. A group
// that does not exist is not an error; one with members is ErrGroupActive.
func (c *Control) DeleteGroup(ctx context.Context, group string) error {
	resp, err := c.adm.DeleteGroup(ctx, group)
	if err == nil {
		err = resp.Err
	}
	switch {
	case err == nil, errors.Is(err, kerr.GroupIDNotFound):
		return nil
	case errors.Is(err, kerr.NonEmptyGroup):
		return fmt.Errorf("control: delete group %s: %w", group, ErrGroupActive)
	}
	return fmt.Errorf("control: delete group %s: %w", group, err)
}

// LiveWorkers returns how many workers are members of the fleet's worker
// group (WorkersGroup) now: 0 when none runs or the group never existed.
func (c *Control) LiveWorkers(ctx context.Context) (int, error) {
	d, err := c.describeGroup(ctx, WorkersGroup(c.fleet))
	return len(d.Members), err
}

// describeGroup describes one group; a group that does not exist has no
// members.
func (c *Control) describeGroup(ctx context.Context, group string) (kadm.DescribedGroup, error) {
	described, err := c.adm.DescribeGroups(ctx, group)
	if err != nil {
		return kadm.DescribedGroup{}, fmt.Errorf("control: describe group %s: %w", group, err)
	}
	d, ok := described[group]
	if !ok || errors.Is(d.Err, kerr.GroupIDNotFound) {
		return kadm.DescribedGroup{}, nil
	}
	if d.Err != nil {
		return kadm.DescribedGroup{}, fmt.Errorf("control: describe group %s: %w", group, d.Err)
	}
	return d, nil
}

// RemoveStaticMembers removes the static members (those with an instance
// id, KIP-345) of a consumer group, as Kafka's admin
// removeMembersFromConsumerGroup does: a static member does not leave the
// group when its consumer closes, so a group whose consumers are known to
// have stopped keeps them until their session times out. It reports how
// many it removed. Call it only when the group's consumers have stopped.
func (c *Control) RemoveStaticMembers(ctx context.Context, group string) (int, error) {
	d, err := c.describeGroup(ctx, group)
	if err != nil {
		return 0, err
	}
	var ids []string
	for _, m := range d.Members {
		if m.InstanceID != nil && *m.InstanceID != "" {
			ids = append(ids, *m.InstanceID)
		}
	}
	if len(ids) == 0 {
		return 0, nil
	}
	resp, err := c.adm.LeaveGroup(ctx, kadm.LeaveGroup(group).InstanceIDs(ids...).Reason("pipectl apply: the pipeline stopped"))
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		return 0, fmt.Errorf("control: remove the members of group %s: %w", group, err)
	}
	return len(ids), nil
}
