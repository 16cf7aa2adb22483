package web

// liveRoutes are the live routes (owned by the live feature).
func (w *Web) liveRoutes() []Route { return nil }
