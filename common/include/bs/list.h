/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A tiny intrusive circular doubly linked list, kernel style: embed a
 * struct bs_list in each entry, keep one as the head, and get the entry
 * back with bs_list_entry().  A removed node points to itself, so that
 * bs_list_del() may be called on it again.  Not thread safe.
 */
#ifndef BS_LIST_H
#define BS_LIST_H

#include <stdbool.h>

#include "bs/compiler.h"

struct bs_list {
	struct bs_list *next, *prev;
};

/* The entry of type @type holding node @node as its field @member. */
#define bs_list_entry(node, type, member) container_of(node, type, member)

static inline void bs_list_init(struct bs_list *head)
{
	head->next = head->prev = head;
}

static inline bool bs_list_empty(const struct bs_list *head)
{
	return head->next == head;
}

static inline void bs_list_add_tail(struct bs_list *head, struct bs_list *n)
{
	n->prev = head->prev;
	n->next = head;
	head->prev->next = n;
	head->prev = n;
}

/* Unlink @n (a no-op on an initialized, unlinked node). */
static inline void bs_list_del(struct bs_list *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->next = n->prev = n;
}

#endif /* BS_LIST_H */
