package web

// userRoutes are the users routes (owned by the users feature).
func (w *Web) userRoutes() []Route { return nil }
