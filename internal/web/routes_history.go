package web

// historyRoutes are the history routes (owned by the history feature).
func (w *Web) historyRoutes() []Route { return nil }
