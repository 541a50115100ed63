// SPDX-License-Identifier: MIT
/*
 * The card side of a net port (net/net.h): thin wrappers that keep the
 * rules in one place. A port whose back end failed is a cable pulled out:
 * frames are dropped both ways and nothing else happens.
 */
#include "net/net.h"

void net_port_set_receiver(struct net_port *port,
			   const struct net_receiver *rx)
{
	if (rx)
		port->rx = *rx;
	else
		port->rx = (struct net_receiver){0};
}

void net_port_send(struct net_port *port, const u8 *frame, size_t len)
{
	if (!port || port->link_down || len == 0 || len > NET_MAX_FRAME)
		return;
	port->ops->send(port, frame, len);
}

void net_port_accept_input(struct net_port *port)
{
	if (port && port->ops->accept_input)
		port->ops->accept_input(port);
}

void net_port_close(struct net_port *port)
{
	if (port)
		port->ops->close(port);
}

bool net_port_deliver(struct net_port *port, const u8 *frame, size_t len)
{
	if (port->link_down || !port->rx.receive || len > NET_MAX_FRAME)
		return false;
	if (port->rx.can_receive && !port->rx.can_receive(port->rx.opaque, len))
		return false;
	port->rx.receive(port->rx.opaque, frame, len);
	return true;
}
