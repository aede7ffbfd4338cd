"""Listing pages read without a tree (``plain_listing``) give what the tree
gives (``listing_answer``), and pages in any other form are left to the tree.
"""

import asyncio

import pytest

from flowserv_fsspec.backends.s3_answers import (
    listing_answer,
    parsed_page,
    plain_listing,
    read_answer,
)


HEAD = b'<?xml version="1.0" encoding="UTF-8"?>\n'
NS = b' xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'


def page(inside: bytes, head: bytes = HEAD, ns: bytes = NS) -> bytes:
    """A listing page around the given elements."""
    return head + b'<ListBucketResult' + ns + b'><Name>b</Name>' + inside + b'</ListBucketResult>'


def item(key: bytes, extra: bytes = b'') -> bytes:
    """A listed object."""
    return (
        b'<Contents><Key>' + key + b'</Key><LastModified>2026-11-30T05:35:34.297Z'
        b'</LastModified><ETag>&quot;4032af&quot;</ETag><Size>16</Size>' + extra
        + b'<StorageClass>STANDARD</StorageClass></Contents>'
    )


PLAIN = [
    page(b'<IsTruncated>true</IsTruncated>' + item(b'a/b%20c') + item(b'a/%26d')
         + b'<NextContinuationToken>dG9rZW4=&amp;x</NextContinuationToken>'),
    page(b'\n  <IsTruncated>false</IsTruncated>\n  ' + item(b'x').replace(b'><', b'>\n    <')),
    page(b'<IsTruncated>false</IsTruncated><CommonPrefixes><Prefix>a%2Fb/</Prefix>'
         b'</CommonPrefixes><CommonPrefixes>\n<Prefix>c/</Prefix>\n</CommonPrefixes>'),
    page(item(b'o', b'<Owner><ID>1</ID><DisplayName>me</DisplayName></Owner>'), head=b''),
    page(item('ünï &lt;tab&gt;'.encode())),
    page(b''),
]


@pytest.mark.parametrize('body', PLAIN)
def test_a_plain_page_reads_as_its_tree(body):
    """Keys, sizes, times, ETags, prefixes, the token and the flag are the
    tree's, entities replaced and keys URL-decoded."""
    plain = plain_listing(body)
    assert plain is not None
    assert plain == listing_answer(parsed_page(body))


def test_the_plain_reading_gives_the_fields():
    """The first page above, field by field."""
    answer = plain_listing(PLAIN[0])
    assert [c['Key'] for c in answer['Contents']] == ['a/b c', 'a/&d']
    assert answer['Contents'][0]['ETag'] == '"4032af"'
    assert answer['Contents'][0]['Size'] == 16
    assert answer['Contents'][0]['LastModified'].timestamp() == 1796016934.297
    assert answer['IsTruncated'] is True
    assert answer['NextContinuationToken'] == 'dG9rZW4=&x'


OTHER = [
    page(item(b'a&#x41;')),                                 # a character reference
    page(b'<!-- note -->' + item(b'a')),                    # a comment
    page(item(b'<![CDATA[a]]>')),                           # CDATA
    page(b'<s3:Contents><s3:Key>a</s3:Key></s3:Contents>'),  # prefixed names
    page(b'<Contents><Size>1</Size></Contents>'),           # no key
    page(b'<Contents ><Key>a</Key></Contents>'),            # a form the expressions miss
    page(b'<Contents><Key a="1">a</Key></Contents>'),       # attributes
    page(item(b'a'), ns=b''),                               # no namespace
    page(b'<Contents><Key>a</Key>'),                        # not closed
    page(b'<Contents><Contents><Key>a</Key></Contents></Contents>'),  # nested
    page(b'</CommonPrefixes>'),                             # not opened
    page(item(b'a')).replace(b'</ListBucketResult>', b''),  # not whole
    b'<Error><Code>SlowDown</Code></Error>',
]


@pytest.mark.parametrize('body', OTHER)
def test_any_other_page_is_left_to_the_tree(body):
    """Anything but the plain form is not read by expressions."""
    assert plain_listing(body) is None


def test_a_page_that_is_not_whole_is_a_parser_error():
    """A cut page falls to the tree, which raises what botocore (and s3fs's
    retries) know."""
    from botocore.parsers import ResponseParserError

    class Cut:
        status_code = 200
        headers: dict = {}

        @property
        async def content(self):
            return OTHER[-2]

    with pytest.raises(ResponseParserError):
        asyncio.run(read_answer('list_objects_v2', Cut()))
