package inbox_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"followup/inbox"
)

func TestSentArchiveAppendsToTheSentFolder(t *testing.T) {
	sb, err := inbox.StartSandbox("127.0.0.1:0", "wangmin@acme.test", "pw")
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	c, err := imapclient.DialInsecure(sb.Addr().String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Login("wangmin@acme.test", "pw").Wait()
	if err := c.Create("已发送", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(sb.Addr().String())
	a := inbox.NewSentArchive(inbox.Server{Host: host, Port: atoi(port), TLS: "none", Username: "wangmin@acme.test", Password: "pw", Timeout: 5 * time.Second}, "", "test", nil, 10)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.Run(ctx); close(done) }()
	a.Save([]byte("From: wangmin@acme.test\r\nTo: li.lei@example.com\r\nSubject: hi\r\nMessage-ID: <s1@acme.test>\r\n\r\nHello\r\n"))
	deadline := time.Now().Add(5 * time.Second)
	var n uint32
	for time.Now().Before(deadline) {
		st, err := c.Status("已发送", &imap.StatusOptions{NumMessages: true}).Wait()
		if err == nil && st.NumMessages != nil && *st.NumMessages == 1 {
			n = 1
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-done
	if n != 1 {
		t.Fatal("no copy in the Sent folder (found by its name 已发送)")
	}
	sel, _ := c.Select("已发送", nil).Wait()
	msgs, err := c.Fetch(imap.SeqSetNum(sel.NumMessages), &imap.FetchOptions{Flags: true}).Collect()
	if err != nil || len(msgs) != 1 || len(msgs[0].Flags) != 1 || msgs[0].Flags[0] != imap.FlagSeen {
		t.Errorf("copy flags: %+v %v", msgs, err)
	}
}
