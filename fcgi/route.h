/* fcgi/route.h -- the route table: method and path to handler. An unknown path gets 404
 * not_found; a known path with another method gets 405 method_not_allowed and an Allow
 * header. Test-only routes (/api/_test/) exist only when server.test_routes is on. */
#ifndef LX_FCGI_ROUTE_H
#define LX_FCGI_ROUTE_H

struct req;

void route_dispatch(struct req *r);

#endif
