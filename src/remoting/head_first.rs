//! The server's frame decoder. Most frames come whole; a frame with a large
//! body comes first as its head (the header and the body's first bytes),
//! so that whoever serves it can decide from those whether the rest is
//! needed at all: a broker re-sends a megabyte of unchanged topics every
//! 30 s, and reading it into memory would cost more than the rest of the
//! request.

use bytes::{Buf, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use super::codec::{decode_header, CodecError, RemotingCodec};
use super::command::RemotingCommand;

/// Which frames come head first, and how much of their body the head holds.
#[derive(Debug, Clone, Copy)]
pub struct HeadFirst {
    /// Bodies at least this long come head first.
    pub min_body: usize,
    /// How many of the body's first bytes the head holds.
    pub prefix: usize,
}

impl HeadFirst {
    /// Every frame comes whole.
    pub const NEVER: HeadFirst = HeadFirst {
        min_body: usize::MAX,
        prefix: 0,
    };
}

/// A decoded frame.
#[derive(Debug)]
pub enum Inbound {
    Whole(RemotingCommand),
    /// The rest of the body follows on the stream; it must be consumed
    /// (read or discarded) before the next frame.
    Head(FrameHead),
}

/// A frame's header, and of its body the first bytes, in `cmd.body`.
#[derive(Debug)]
pub struct FrameHead {
    pub cmd: RemotingCommand,
    /// The whole body's length.
    pub body_len: usize,
}

impl FrameHead {
    /// Body bytes still to come after the ones in `cmd.body`.
    pub fn rest_len(&self) -> usize {
        self.body_len - self.cmd.body.len()
    }
}

#[derive(Debug, Clone)]
pub struct ServerCodec {
    frames: RemotingCodec,
    head_first: HeadFirst,
}

impl ServerCodec {
    pub fn new(max_frame: usize, head_first: HeadFirst) -> Self {
        ServerCodec {
            frames: RemotingCodec::new(max_frame),
            head_first,
        }
    }
}

/// The frame's length prefix and its type-and-header-length word.
const FIXED: usize = 8;

impl Decoder for ServerCodec {
    type Item = Inbound;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Inbound>, CodecError> {
        let Some(frame_len) = self.frames.frame_len(src)? else {
            return Ok(None);
        };
        // Too short to hold a large body: decoded whole.
        if frame_len < FIXED.saturating_add(self.head_first.min_body) {
            return Ok(self.frames.decode(src)?.map(Inbound::Whole));
        }
        if src.len() < FIXED {
            return Ok(None);
        }
        let word = u32::from_be_bytes([src[4], src[5], src[6], src[7]]);
        let header_len = (word & 0x00FF_FFFF) as usize;
        let Some(body_len) = frame_len.checked_sub(FIXED + header_len) else {
            return Err(CodecError::HeaderTooLong {
                header: header_len,
                available: frame_len - FIXED,
            });
        };
        if body_len < self.head_first.min_body {
            return Ok(self.frames.decode(src)?.map(Inbound::Whole));
        }
        let head_len = FIXED + header_len + self.head_first.prefix.min(body_len);
        if src.len() < head_len {
            src.reserve(head_len - src.len());
            return Ok(None);
        }
        src.advance(FIXED);
        let header = src.split_to(header_len);
        let mut cmd = decode_header((word >> 24) as u8, &header)?;
        cmd.body = src.split_to(self.head_first.prefix.min(body_len)).freeze();
        Ok(Some(Inbound::Head(FrameHead { cmd, body_len })))
    }
}

impl Encoder<RemotingCommand> for ServerCodec {
    type Error = CodecError;

    fn encode(&mut self, cmd: RemotingCommand, dst: &mut BytesMut) -> Result<(), CodecError> {
        self.frames.encode(cmd, dst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remoting::codec::encode_frame;
    use crate::remoting::command::SerializeType;
    use bytes::Bytes;

    const HEAD_FIRST: HeadFirst = HeadFirst {
        min_body: 100,
        prefix: 10,
    };

    fn frame(body_len: usize, serialize_type: SerializeType) -> (RemotingCommand, BytesMut) {
        let mut cmd = RemotingCommand::request(103, 7);
        cmd.serialize_type = serialize_type;
        cmd.ext_fields.insert("brokerName".into(), "a".into());
        cmd.body = Bytes::from((0..body_len).map(|i| i as u8).collect::<Vec<_>>());
        let bytes = encode_frame(&cmd);
        (cmd, bytes)
    }

    #[test]
    fn small_bodies_come_whole_large_ones_head_first() {
        for serialize_type in [SerializeType::Json, SerializeType::RocketMq] {
            let mut codec = ServerCodec::new(1 << 20, HEAD_FIRST);
            let (small, mut bytes) = frame(99, serialize_type);
            match codec.decode(&mut bytes).unwrap() {
                Some(Inbound::Whole(cmd)) => assert_eq!(cmd, small),
                other => panic!("{other:?}"),
            }
            let (large, mut bytes) = frame(300, serialize_type);
            let Some(Inbound::Head(head)) = codec.decode(&mut bytes).unwrap() else {
                panic!("not head first");
            };
            assert_eq!(head.cmd.ext_fields, large.ext_fields);
            assert_eq!(head.cmd.code, 103);
            assert_eq!(head.body_len, 300);
            assert_eq!(head.cmd.body, large.body.slice(..10));
            assert_eq!(head.rest_len(), 290);
            // What is left in the buffer is the rest of the body.
            assert_eq!(&bytes[..], &large.body[10..]);
        }
    }

    #[test]
    fn never_decodes_every_frame_whole() {
        let mut codec = ServerCodec::new(1 << 20, HeadFirst::NEVER);
        let (large, mut bytes) = frame(300, SerializeType::Json);
        match codec.decode(&mut bytes).unwrap() {
            Some(Inbound::Whole(cmd)) => assert_eq!(cmd, large),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_head_waits_for_its_prefix() {
        let mut codec = ServerCodec::new(1 << 20, HEAD_FIRST);
        let (_, bytes) = frame(300, SerializeType::Json);
        let header_end = bytes.len() - 300;
        let mut partial = BytesMut::from(&bytes[..header_end + 9]);
        assert!(codec.decode(&mut partial).unwrap().is_none());
        partial.extend_from_slice(&bytes[header_end + 9..header_end + 10]);
        assert!(matches!(
            codec.decode(&mut partial).unwrap(),
            Some(Inbound::Head(_))
        ));
        assert!(partial.is_empty());
    }

    #[test]
    fn a_header_longer_than_its_frame_is_an_error() {
        let mut codec = ServerCodec::new(1 << 20, HEAD_FIRST);
        let mut bytes = BytesMut::new();
        bytes.extend_from_slice(&200i32.to_be_bytes());
        bytes.extend_from_slice(&(1000u32).to_be_bytes());
        bytes.extend_from_slice(&[0; 200]);
        assert!(matches!(
            codec.decode(&mut bytes),
            Err(CodecError::HeaderTooLong { .. })
        ));
        let mut bytes = BytesMut::from(&[0u8, 0, 0, 2][..]);
        assert!(matches!(
            codec.decode(&mut bytes),
            Err(CodecError::FrameTooSmall(2))
        ));
    }
}
