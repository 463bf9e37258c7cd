"""The live events of a node, for the live view (`/_sim/ui/`): its tasks, its fault rules, the cluster states it
applied (`journal.EventJournal`), and their JSON (`views`)."""

from node.events.journal import EventJournal, Subscription

__all__ = ["EventJournal", "Subscription"]
