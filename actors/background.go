package actors

// goBackground runs fn in a goroutine that System.Shutdown waits for: work that must not hold a
// mailbox (DESIGN §10, STYLE habit 15) and reports back with a message or answers its caller
// itself. Call it from an actor's Receive only, never once shutdown is waiting.
func (o *Options) goBackground(fn func()) {
	o.background.Add(1)
	go func() {
		defer o.background.Done()
		fn()
	}()
}
