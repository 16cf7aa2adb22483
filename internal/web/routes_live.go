package web

// liveRoutes are the live routes (owned by the live feature): the account's
// event stream and presence. Both need a session in an account, whatever
// its rights: each event is filtered by the rights of its category.
func (w *Web) liveRoutes() []Route {
	return []Route{
		{Pattern: "GET /live", Access: Session, handle: w.liveStream},
		{Pattern: "POST /live/presence", Access: Session, handle: w.livePresence},
	}
}
