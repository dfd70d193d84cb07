package inventory

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestEnrolmentCodesAreReadWithTheirLines(t *testing.T) {
	codes, err := ReadEnrolmentCodes("codes.csv", strings.NewReader("\ufeffsubject_id,code,enrol_by\ns1,CM-7Q2X,2027-01-31\ns2,CM-8R3Y,\n"))
	require.NoError(t, err)
	require.Equal(t, []EnrolmentCode{{SubjectID: "s1", Code: "CM-7Q2X", EnrolBy: "2027-01-31"}, {SubjectID: "s2", Code: "CM-8R3Y"}}, codes)

	_, err = ReadEnrolmentCodes("codes.csv", strings.NewReader("subject_id,code,enrol_by\ns1,CM-1,2027-01-31\ns2,,\ns1,CM-2,\ns3,CM-3,31/01/2027\ns4,[[code]],\n"))
	require.ErrorContains(t, err, "codes.csv:3: code: empty")
	require.ErrorContains(t, err, "codes.csv:4: subject_id: s1 already has a code at line 2")
	require.ErrorContains(t, err, `codes.csv:5: enrol_by: "31/01/2027" is not a date as YYYY-MM-DD`)
	require.ErrorContains(t, err, "codes.csv:6: code: letters, digits and punctuation only")

	_, err = ReadEnrolmentCodes("codes.csv", strings.NewReader("id,code\ns1,x\n"))
	require.ErrorContains(t, err, "codes.csv:1: the header has no subject_id column")
}
